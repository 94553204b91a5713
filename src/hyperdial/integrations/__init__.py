"""Integrations with the libraries people train with; each is an extra, imported only when used.

- `hyperdial.integrations.sklearn`: `SearchCV`, a drop-in for scikit-learn's `RandomizedSearchCV`
  driven by a hyperdial study, with pruning across folds (`pip install 'hyperdial[sklearn]'`).
- `hyperdial.integrations.xgboost`: `XGBoostPruningCallback`, reports an evaluation metric each
  boosting round and stops pruned trials (`pip install 'hyperdial[xgboost]'`).
- `hyperdial.integrations.lightgbm`: `LightGBMPruningCallback`, the same for `lgb.train` and
  LightGBM's scikit-learn API (`pip install 'hyperdial[lightgbm]'`).
- `hyperdial.integrations.mlflow`: `MLflowCallback`, a study callback that logs each finished
  trial as an MLflow run (`pip install 'hyperdial[mlflow]'`).
- `hyperdial.integrations.transformers` and `hyperdial.integrations.lightning`: Hugging Face
  Transformers and PyTorch Lightning callbacks.

Nothing here is imported by `import hyperdial` or by importing this package: import the
module you need (`from hyperdial.integrations.sklearn import SearchCV`). A missing library
raises `hd.MissingDependency` naming the extra to install. docs/integrations.md has a
runnable example of each.
"""
