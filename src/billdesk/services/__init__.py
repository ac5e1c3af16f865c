"""The domain: pure Python over the models. Nothing here imports Qt."""
