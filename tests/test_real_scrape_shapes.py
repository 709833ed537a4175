"""Shapes that real scraped pages show and the dev generator does not.

Every fixture here is written for the test (invented names, handles and links) in the
shape an extractor leaves on a real page: tweets glued to the end of an article
paragraph, single-newline paragraphs, caption lines, signatures without a body,
prompts and picture credits as whole lines.
"""
from __future__ import annotations

import pytest

from newsclean import Cleaner
from newsclean.clean.embeds import (
    is_furniture,
    kept_share,
    lost_most_text,
    remove_embeds,
    remove_embeds_and_explain,
    tweet_length,
)

SIGNATURE = "\u2014 City Hall News (@CityHallNews) November 5, 2016"


# ---------------------------------------------------------------- tweets in every shape


def test_tweet_glued_to_an_article_paragraph_is_cut_at_its_start():
    text = (
        "The mayor arrived late. She lit the beacon at dusk. . @CityHallNews says the lights are on: "
        "\u201cwelcome home\u201d https://t.co/Abc123XyZq pic.twitter.com/Qwe456RtYu \n"
        f"{SIGNATURE} \nThe crowd cheered."
    )
    out = remove_embeds(text)
    assert out == "The mayor arrived late. She lit the beacon at dusk. \nThe crowd cheered."


def test_tweet_sentence_after_a_quoted_article_sentence():
    text = (
        "\u201cI will stay here and watch,\u201d she was heard saying. Neighbours guard the old oak "
        "against all comers #SaveTheOak https://t.co/Abc123XyZq \n"
        "\u2014 Oak Watch (@oakwatch) October 27, 2016 \nThe tree still stands."
    )
    out = remove_embeds(text)
    assert "she was heard saying." in out and "Neighbours" not in out and "(@oakwatch)" not in out
    assert out.endswith("\nThe tree still stands.")


def test_article_line_before_a_signature_without_body_is_kept():
    # single-newline paragraphs: the tweet was a video, only its signature is left
    text = (
        "The video showed the storm hitting the pier and the boats breaking loose. \n"
        "\u2014 Jane Porter (@janeporter) September 20, 2016 \n"
        "Officials closed the beach."
    )
    out = remove_embeds(text)
    assert out == (
        "The video showed the storm hitting the pier and the boats breaking loose. \nOfficials closed the beach."
    )


def test_caption_line_before_the_signature_is_kept():
    # "Clip of ...:" may be the tweet's own text or the article's: kept, as a wrong
    # removal would lose an article sentence
    text = "The speech went well.\nClip of the mayor's speech:\n\u2014 City Desk (@citydesk) October 27, 2016\nEnd."
    assert remove_embeds(text) == "The speech went well.\nClip of the mayor's speech:\nEnd."


def test_link_only_tweet_leaves_the_article_sentence_and_never_an_empty_record():
    text = (
        "Someone at the council needs a spellchecker. The council sent this letter to a resident recently: "
        "pic.twitter.com/w5jwlpZHbx \n\u2014 Some One (@someone) November 1, 2016"
    )
    out = remove_embeds(text)
    assert out.rstrip() == (
        "Someone at the council needs a spellchecker. The council sent this letter to a resident recently:"
    )
    assert Cleaner(spin_table=None).clean_text(text).endswith("recently:")


def test_a_record_that_is_only_a_tweet_is_not_emptied():
    text = "\u2014 Some One (@someone) November 1, 2016"
    assert remove_embeds_and_explain(text) == (text, [])


def test_tweets_between_signatures_on_one_line():
    text = (
        "\u2014 Kay Dee (@kaydee) November 9, 2016 The lesson from tonight: listen to the voters. "
        "Stop running the same candidates. \n"
        "\u2014 People Power (@peoplepower) November 9, 2016 \n"
        "The analyst blamed the turnout."
    )
    out = remove_embeds(text)
    assert "lesson" not in out and "(@" not in out
    assert out.strip() == "The analyst blamed the turnout."


def test_a_colon_that_introduces_the_tweet():
    text = (
        "A former aide summed up the night in this tweet: The party picked the only candidate who could "
        "lose. The other party did the same \n\u2014 Ann Aide (@annaide) November 9, 2016 \nVotes are counted."
    )
    out = remove_embeds(text)
    assert out == "A former aide summed up the night in this tweet: \nVotes are counted."


def test_twitter_named_sentences_before_a_quote_are_not_an_introduction():
    text = (
        "The slogan prompted some Twitter users to mock the campaign. \u201cSouth Dakota: if we were any "
        "higher, we\u2019d be North Dakota,\u201d one user quipped.Another wondered why the state bothered. "
        "No one is going to take your slogan. https://t.co/XPxUJuyIAQ\u2014 Rob Maguire (@robmaguire) "
        "November 18, 2019"
    )
    out = remove_embeds(text)
    assert "one user quipped.Another wondered why the state bothered." in out
    assert "take your slogan" not in out


def test_tweet_paragraph_of_its_own_without_punctuation():
    text = (
        "He has managed four clubs.\n\nClub statement\n\n"
        "\u2014 Spurs Club (@spursclub) November 20, 2019\n\nHe starts on Saturday."
    )
    out = remove_embeds(text)
    assert "Club statement" not in out and "He has managed four clubs." in out and "He starts on Saturday." in out


def test_tweet_after_an_introducing_paragraph():
    text = (
        "The details were shared on the Senate's account. See tweets :\n\n"
        "Senate resolves to:\nObserve a minute silence.\n\n"
        "\u2014 The Senate (@senate) October 9, 2018\n\nThe motion passed."
    )
    out = remove_embeds(text)
    assert "minute silence" not in out and "See tweets :" in out and "The motion passed." in out


def test_abbreviations_and_initials_are_no_sentence_breaks():
    text = (
        "Lawmakers met. Sen. B. U. Smith raises a motion on the deaths of two members #InSenate\n"
        "\u2014 The Senate (@senate) October 9, 2018"
    )
    out = remove_embeds(text)
    assert out.strip() == "Lawmakers met."


def test_modes_embedded_and_keep():
    text = (
        "Many reacted.\n\nWe must apply compassion. pic.twitter.com/s96jjh8AlX\n\n"
        "\u2014 A Member (@amember) November 19, 2019\n\nThe court agreed."
    )
    assert remove_embeds(text, tweets="embedded") == text
    assert remove_embeds(text, tweets="keep") == text
    assert "compassion" not in remove_embeds(text)
    quoted = "Many reacted.\n\n> We must apply compassion.\n\u2014 A Member (@amember) November 19, 2019\n\nEnd."
    assert "compassion" not in remove_embeds(quoted, tweets="embedded")
    assert remove_embeds(quoted, tweets="keep") == quoted


def test_links_to_tweets_left_outside_a_tweet_are_removed():
    text = "The best moment in media history: Big ups, AB. pic.twitter.com/qMxopaGBo6 \nHere is the rest."
    assert remove_embeds(text) == "The best moment in media history: Big ups, AB. \nHere is the rest."
    assert remove_embeds(text, tweets="embedded") == text


@pytest.mark.parametrize(
    "text",
    [
        "The account @citydesk posted photos of the flood on Monday.",
        "He wrote on Twitter: the vote is rigged. The claim was false.",
        "Follow the story at #election2016 for updates, the station said.",
        "Email the desk at news@example.com with tips.",
    ],
)
def test_sentences_that_mention_twitter_stay(text):
    assert is_furniture(text) is None
    text = f"The flood closed two roads.\n{text}\nThe river fell overnight."
    assert remove_embeds(text) == text


def test_tweet_length_counts_links_as_twitter_does():
    assert tweet_length("a https://t.co/abcdefghij b") == 27
    assert tweet_length("a pic.twitter.com/abcdefghij") == 1


# ---------------------------------------------------------------- how much is left


def test_kept_share_and_lost_most_text():
    assert kept_share("Keep. Drop.", "Keep.") == 0.5
    assert kept_share("caf?", "café") == 1.0
    assert not lost_most_text("The council met. Advertisement", "The council met.")
    assert lost_most_text("Hi. " + "Share this story on Facebook. " * 4, "Hi.")
    assert lost_most_text("Keep. Drop.", "Keep.", min_keep=0.6)


# ---------------------------------------------------------------- prompts, as whole lines


@pytest.mark.parametrize(
    "line, why",
    [
        ("Share this:", "label"),
        ("Please LIKE and SHARE this story on Facebook or Twitter.", "prompt"),
        ("Click for more from The New York Times.", "prompt"),
        ("NEWSLETTER SIGN UP", "label"),
        ("Image 3 of 12", "label"),
        ("Advert", "label"),
        ("Media playback is unsupported on your device", "label"),
        ("Photo: Hau Dinh, AP", "image credit"),
        ("(Photo: Getty Images)", "image credit"),
        ("Sonu Mehta/Hindustan Times/Getty Images", "image credit"),
        ("Alex Wong | Getty Images", "image credit"),
        ("Your email address will not be published. Required fields are marked *", "prompt"),
        ("Save my name, email, and website in this browser for the next time I comment.", "prompt"),
        ("Notify me of follow-up comments by email.", "prompt"),
        ("This site uses Akismet to reduce spam. Learn how your comment data is processed.", "prompt"),
    ],
)
def test_common_prompts_are_furniture(line, why):
    assert is_furniture(line) == why


@pytest.mark.parametrize(
    "line",
    [
        "Please share your views with the council, officials said.",
        "Photo: A man walks past the damaged building on Monday.",
        "Image 3 of the report shows the flooded streets.",
        "Advertisers pulled out of the show last week.",
        "Reuters/Ipsos polling shows a close race.",
        "Your email address is safe with the bank, the spokesman said.",
    ],
)
def test_article_sentences_are_not_prompts(line):
    assert is_furniture(line) is None


def test_prompts_are_removed_only_as_whole_lines():
    text = "The vote is on Tuesday. Please LIKE and SHARE this story on Facebook or Twitter.\nAdvert\nEnd."
    assert remove_embeds(text) == "The vote is on Tuesday. Please LIKE and SHARE this story on Facebook or Twitter.\nEnd."


# ---------------------------------------------------------------- glued words


@pytest.mark.parametrize(
    "text, expected",
    [
        ("documents published byWikiLeaks last year", "documents published by WikiLeaks last year"),
        ("a video posted onYouTube on Monday", "a video posted on YouTube on Monday"),
        ("a profile onLinkedIn shows", "a profile on LinkedIn shows"),
        ("a launch bySpaceX in May", "a launch by SpaceX in May"),
        ("first reported byBuzzFeed News", "first reported by BuzzFeed News"),
        ("files that WikiLeaksand others published", "files that WikiLeaks and others published"),
        # a name whose spaces were lost with the link's: its known words come apart
        ("as BloombergNewsreported on Friday", "as Bloomberg News reported on Friday"),
        ("WhenCarlineowas approached", "When Carlineo was approached"),
        ("statements fromAmazonandIBM.", "statements from Amazon and IBM."),
    ],
)
def test_glued_words_split_but_names_stay_whole(text, expected):
    from newsclean.clean.glued import split_glued_words

    assert split_glued_words(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "The IllustrisTNG simulation ran for months.",
        "the ExpApper team",
        "Detroit news from DetroitHoodline today",
        "listen on IvritTalk radio",
        "{* backButton *} {* forgotPassword_sendButton *}",
        "site: media | pageType: stories | section: news",
        "sites such as mySimon and myMuseum",
        "TheBlaze reported it",
    ],
)
def test_camel_case_names_and_code_are_not_split(text):
    from newsclean.clean.glued import split_glued_words_and_explain

    assert split_glued_words_and_explain(text) == (text, [])


@pytest.mark.parametrize(
    "text, expected",
    [
        ("the prosecutors said.The stabbing occurred at night", "the prosecutors said. The stabbing occurred at night"),
        ("What did they say?Deputy Director Smith answered", "What did they say? Deputy Director Smith answered"),
        ("on the table.”But the plan failed", "on the table.” But the plan failed"),
        ("critics of Ocasio-Cortez.They said", "critics of Ocasio-Cortez. They said"),
    ],
)
def test_sentences_glued_at_a_full_stop_are_split(text, expected):
    from newsclean.clean.glued import split_glued_words

    assert split_glued_words(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "in the U.S.Army and U.S. Navy",
        "written with Node.js and Vue.js",
        "version 2.0.1 and 3.14 percent",
        "see https://example.com/News.Today and www.example.Com",
        "write to Sarah.Needleman@example.com",
        "the System.Collections.Generic namespace and Console.WriteLine(x)",
        "Mr.Smith and Dr.Jones visited St.Louis",
        "book at Booking.Com today",
        "Corp.)Image 4 of 5",
    ],
)
def test_dots_that_end_no_sentence_are_left_alone(text):
    from newsclean.clean.glued import split_glued_words_and_explain

    assert split_glued_words_and_explain(text) == (text, [])


def test_question_mark_glue_is_left_in_lossy_text():
    from newsclean.clean.glued import split_glued_words_and_explain

    text = "Microsoft?s plan was discussed at the town hall?Mayor Smith spoke"
    assert split_glued_words_and_explain(text) == (text, [])


# ---------------------------------------------------------------- layout

SCHEDULE = (
    "The band will tour next year. The dates:\n"
    "June 9 -- Coral Arena, West Palm Beach, FL\n"
    "June 10 -- Harbor Amphitheatre, Tampa, FL\n"
    "June 14 -- Lakeside Amphitheatre (Formerly Pine Amphitheatre), Alpharetta, GA\n"
    "June 17 -- River Arena, Nashville, TN\n"
    "June 19 -- Music Pavilion, Charlotte, NC\n"
    "June 20 -- Credit Union Music Park at Walnut Creek, Raleigh, NC\n"
    "June 23 -- Veterans Home Amphitheater at Ocean Beach, Ocean Beach, VA\n"
    "June 24 -- Lube Live, Bristow, VA\n"
    "June 26 -- Center Arena, Allentown, PA\n"
    "June 27 -- Trust Pavilion, Camden, NJ\n"
    "June 29 -- Bank Arts Center, Holmdel, NJ\n"
    "June 30 -- Health at Jones Beach Theater, Wantagh, NY"
)
STANDINGS = (
    "Path A: Iceland, Bulgaria/Israel/Hungary/Romania*\n"
    "Path B: Bosnia and Herzegovina, Slovakia, Republic of Ireland, Northern Ireland\n"
    "Path C: Scotland, Norway, Serbia, Bulgaria/Israel/Hungary/Romania*\n"
    "Path D: Georgia, North Macedonia, Kosovo, Belarus\n\n"
    "Qualified teams\n\n"
    "England (Group A): 10th appearance\n"
    "Czech Republic (Group A): Seventh appearance\n"
    "Ukraine (Group B): Third appearance\n"
    "Spain (Group F): 11th appearance\n"
    "Sweden (Group F): Seventh appearance\n"
    "Poland (Group G): Fourth appearance\n"
    "France (Group H): 10th appearance\n"
    "Turkey (Group H): Fifth appearance\n"
    "Belgium (Group I): Sixth appearance\n"
    "Russia (Group I): 12th appearance\n"
    "Italy (Group J): 10th appearance\n"
    "Finland (Group J): Zero appearances\n"
    "Croatia (Group E): Sixth appearance\n"
    "Czech Republic (Group A): Seventh appearance\n"
    "Netherlands (Group C): 10th appearance\n"
    "Switzerland (Group D): Fifth appearance\n"
    "Denmark (Group D): Ninth appearance\n"
    "Portugal (Group B): Eighth appearance\n"
    "Wales (Group E): Fourth appearance"
)
DIALOGUE = (
    "Q: When did you first hear about the plan for the new bridge over the river?\n"
    "A: In March, when the council sent a letter to every house on our street.\n"
    "Q: And what did you think of it when you first read the letter they sent?\n"
    "A: I thought it was a good idea, but the money had to come from somewhere."
)


@pytest.mark.parametrize("text", [SCHEDULE, STANDINGS, DIALOGUE])
def test_lists_tables_schedules_and_dialogue_keep_their_lines(text):
    from newsclean.clean.layout import fix_layout

    assert fix_layout(text) == text


def test_folded_prose_is_reflowed_and_a_list_inside_it_kept():
    from newsclean.clean.layout import fix_layout

    text = (
        "The council met on Monday to discuss the budget for the coming year, and\n"
        "members agreed that the library would keep its opening hours through the\n"
        "winter, after residents had asked them to do so at a meeting last month.\n"
        "\n"
        "Polling stations:\n"
        "Town Hall, Main Street\n"
        "Library, Church Road\n"
        "\n"
        "Officials said the vote would be held in the spring, once the new register\n"
        "of electors had been published and checked by the county clerk's office."
    )
    out = fix_layout(text)
    assert "and members agreed that the library would keep its opening hours through the winter," in out
    assert "Polling stations:\nTown Hall, Main Street\nLibrary, Church Road" in out


# ---------------------------------------------------------------- lossy repair that never invents


def _restore(text: str) -> str:
    from newsclean.clean.lost_chars import restore_lost_characters

    return restore_lost_characters(text)


def test_no_currency_where_a_quote_or_a_year_stood():
    text = "It?s her turn. A woman held a sign that said ?227 years of men.? We did it in ?14. We will do it in ?16,? he said."
    out = _restore(text)
    assert "£" not in out and "€" not in out
    assert "“227 years of men.”" in out and "in ’14." in out


def test_currency_only_where_the_text_speaks_of_that_money():
    assert "£5m" in _restore("It?s a deal worth ?5m, paid in pounds over two years.")
    assert "?5m" in _restore("It?s a deal worth ?5m, the company said.")  # which money? the hole stays


def test_no_letter_between_two_words():
    out = _restore("Voters heard specifics on what they would do?an allusion to the rival. It?s late.")
    assert "doğan" not in out and "do—an" in out


def test_holes_inside_a_word_are_apostrophes_never_dashes():
    out = _restore("The caliph Mu?awiyah read the Qur?an. C?mon, it?s late.")
    assert "Mu’awiyah" in out and "Qur’an" in out and "C’mon" in out
    out = _restore("It?s in Chi?in?u, the capital.")
    assert "Chi?in?u" in out  # two holes in one word: no guess


@pytest.mark.parametrize(
    "text, kept",
    [
        ("It?s great. Where do we sign up???", "sign up???"),
        ("It?s what they call the ?means of subsistence?? Are we at risk?", "subsistence”?"),
        ("It?s the question: ?Do you know that?? he asks.", "that?” he"),
        ("It?s a long list. Could the outcome ever have been in doubt?As a former senator, she knew.", "doubt?As"),
        ("It?s on the site: see story ? id=9208916 and www.example.com/page?id=3", "story ? id=9208916"),
        ("It?s linked https://t.co/BjGcFO0du5 ? pic.twitter.com/nrMqnbW5UK", "0du5 ? pic"),
    ],
)
def test_real_question_marks_are_kept(text, kept):
    assert kept in _restore(text)


def test_tokenised_text_keeps_its_question_marks():
    text = (
        "It 's about time , right ?\nSeriously , Jackman ?\nWhy is he qualified to do this ?\n"
        "See ? Slightly scathing , but playful .\nThey are n't even trying ."
    )
    assert _restore(text) == text


def test_typed_text_with_real_question_marks_is_not_lossy():
    # apostrophes typed in ASCII and no hole where one was lost: its "?" are questions
    text = "Who created this list insane ? Surely the most important thing was the pie maker?? It's out of date."
    assert _restore(text) == text


def test_non_breaking_spaces_where_no_dash_can_stand():
    out = _restore("It?s true. In the crowd,?one woman held a sign. She spent $30?million on the?show.")
    assert "crowd,\u00a0one" in out and "$30\u00a0million" in out and "the\u00a0show" in out
