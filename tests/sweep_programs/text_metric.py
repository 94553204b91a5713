print('hyperdial: {"loss": "low"}')
