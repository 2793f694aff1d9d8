"""What a run's frames say: ``Result`` (result), ``wil.compare``/``wil.train`` (compare), the verdicts
(verdicts, from evidence, rules, sentences and names), the criteria "learned" and "trainable" (criteria)
and the theory's predictions (theory)."""
