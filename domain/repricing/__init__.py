"""The pricing engine: configurable rules + a demand model, under hard constraints, vectorised over batches.

Pure computation (numpy / pandas / scikit-learn, no I/O, no clock): the caller passes `today` and all inputs.
"""
