"""The model and what builds, saves and loads it: the LLM, projectors, connectors, prompts, checkpoints.

``model`` (:class:`~signllava.model.model.SignLLaVA`), ``build`` (configs, building and loading a trained
model), ``checkpoint`` (the trainable state on disk), ``llm`` (loading any causal LM, the embedded default),
``connectors/``. It imports none of :mod:`signllava.inference`, :mod:`signllava.cluster`, training or
evaluation: ``tests/test_imports.py`` holds that.
"""
