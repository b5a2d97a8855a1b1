"""The models behind one contract: :class:`Classifier` (``load``, ``predict_proba``, ``predict``,
``score``, ``save``), the character n-gram baseline, the transformer, the ensemble that stacks
them, the base-encoder conversion, calibration and the occlusion explanations.

Heavy libraries (torch, transformers) load only inside the transformer's methods.

Example:
    >>> from warning.models import Classifier
    >>> Classifier.load  # doctest: +ELLIPSIS
    <bound method Classifier.load of <class 'warning.models.classifier.Classifier'>>
"""

from __future__ import annotations

from warning.models.classifier import Classifier, ModelConfig, ModelLoadError, default_model_path

__all__ = ["Classifier", "ModelConfig", "ModelLoadError", "default_model_path"]
