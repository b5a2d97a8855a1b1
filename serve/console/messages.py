"""What the console's script shows, marked for the catalogue (:mod:`warning.i18n`) and sent to
the page translated, as JSON data (never as script). ``{name}`` places are filled by the script.
"""

from __future__ import annotations

from warning.i18n import N_

__all__ = ["LANGUAGE_NAMES", "MESSAGES", "PAGE_TITLES"]

PAGE_TITLES = {"check": N_("Check posts"), "review": N_("Review corrections"),
               "export": N_("Export for training")}

#: Post languages as the model names them (and the console's own two).
LANGUAGE_NAMES = {"ru": N_("Russian"), "ky": N_("Kyrgyz"), "kk": N_("Kazakh"),
                  "uz": N_("Uzbek"), "tr": N_("Turkish"), "en": N_("English"),
                  "other": N_("another language")}

MESSAGES = {
    # the key
    "key_rejected": N_("The key was not accepted: check it and try again."),
    "unreachable": N_("The server could not be reached; try again."),
    "signed_in": N_("Signed in with a {role} key."),
    "role_submit": N_("moderator's (check and correct)"),
    "role_review": N_("reviewer's (also review and export)"),
    "role_admin": N_("administrator's"),
    "forget": N_("Forget the key"),
    "needs_review": N_("This page needs a key with the role review or admin; this key's "
                       "role is {role}."),
    "feedback_off": N_("Corrections are off on this server (WARNING_FEEDBACK_DB is not set)."),
    "server_said": N_("The server answered: {detail}"),
    # a 401 or 403 answer once signed in: what the page showed is removed
    "key_refused": N_("The server no longer accepts this key (it may have been revoked), so "
                      "what the page showed has been removed. Forget the key and enter a "
                      "valid one."),
    "not_allowed": N_("This key is not allowed to see this, so what the page showed has been "
                      "removed. The server answered: {detail}"),
    # check
    "checking": N_("Checking…"),
    "no_posts": N_("Paste at least one post."),
    "checked": N_("Posts checked: {n}."),
    "post_n": N_("Post {n}"),
    "language": N_("Language: {lang}."),
    "groups": N_("Groups named: {groups}."),
    "no_groups": N_("No identity group named."),
    "risk": N_("Risk: {risk}."),
    "review_yes": N_("A person should look at this post: the model is unsure, or it is weak "
                     "in this language."),
    "review_no": N_("The model is fairly sure about this post."),
    "flagged": N_("flagged"),
    "not_flagged": N_("not flagged"),
    "scores_caption": N_("Scores (0 to 1) and what they mean"),
    "label_column": N_("Label"),
    "score_column": N_("Score"),
    "meaning_column": N_("What it means"),
    "means_offensive": N_("About {n} in 100 posts with this score are offensive."),
    "means_hate": N_("About {n} in 100 posts with this score are hate speech."),
    "means_threat": N_("About {n} in 100 posts with this score contain a threat."),
    "means_extremism": N_("About {n} in 100 posts with this score promote extremism."),
    "not_scored": N_("The model does not score this label."),
    "words_behind": N_("Words behind “{label}”: {words}."),
    "correct_heading": N_("Was the model wrong?"),
    "correct_hint": N_("One click sends a correction of that label, for a second person to "
                       "review."),
    "note": N_("Note (optional)"),
    "is_label": N_("It is {label}"),
    "is_not_label": N_("It is not {label}"),
    "sent_yes": N_("Sent for review: “{label}” should be flagged."),
    "sent_no": N_("Sent for review: “{label}” should not be flagged."),
    # review
    "waiting": N_("Waiting for review: {n}."),
    "waiting_by_lang": N_("By language: {list}."),
    "waiting_by_label": N_("By label: {list}."),
    "own_waiting": N_("Your own corrections waiting for another reviewer: {n}."),
    "shown": N_("Shown with these filters: {n}."),
    "nothing_waits": N_("Nothing waits for review with these filters."),
    "item_heading": N_("Correction sent {date}"),
    "post": N_("Post"),
    "model_scores": N_("Model's scores"),
    "correction": N_("Correction"),
    "scores_unknown": N_("Not known (the correction was sent with the text, not a result)."),
    "should_flag": N_("{label}: should be flagged"),
    "should_not_flag": N_("{label}: should not be flagged"),
    "their_note": N_("Note: {note}"),
    "your_note": N_("Your note (optional)"),
    "confirm": N_("Confirm"),
    "reject": N_("Reject"),
    "confirmed": N_("Confirmed: it can now be used for training."),
    "rejected": N_("Rejected."),
    # export
    "confirmed_count": N_("Confirmed corrections: {n}."),
    "nothing_confirmed": N_("Nothing is confirmed yet."),
    "export_caption": N_("The confirmed corrections in the export"),
    "labels_column": N_("Labels"),
    "language_column": N_("Language"),
    "downloaded": N_("Saved as {file}."),
    "yes": N_("yes"),
    "no": N_("no"),
}
