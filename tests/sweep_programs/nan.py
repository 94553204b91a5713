print('hyperdial: {"loss": NaN}')
