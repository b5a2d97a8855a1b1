"""Training-side code: the data registry, the corpus, (later) models, evaluation and cards.

Depends on ``warning``; ``warning`` never imports it.
"""
