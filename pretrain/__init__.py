"""Self-supervised sign encoders (DINO on face/hand crops, MAE on the signer, Sign2Vec on poses).

Depends on :mod:`pose`; :mod:`signllava` depends on it. The encoders land with their own issue.
"""
