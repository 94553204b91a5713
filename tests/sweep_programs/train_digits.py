"""A real training script: SGD logistic regression on scikit-learn's digits, one report per epoch."""
import argparse

import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import SGDClassifier
from sklearn.model_selection import train_test_split

import hyperdial

p = argparse.ArgumentParser()
p.add_argument("--lr", type=float, required=True)
p.add_argument("--alpha", type=float, required=True)
p.add_argument("--epochs", type=int, default=8)
args = p.parse_args()
X, y = load_digits(return_X_y=True)
X = X / 16.0
Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=0.3, random_state=0)
clf = SGDClassifier(learning_rate="constant", eta0=args.lr, alpha=args.alpha, random_state=0)
classes = np.unique(y)
for epoch in range(1, args.epochs + 1):
    clf.partial_fit(Xtr, ytr, classes=classes)
    error = 1.0 - clf.score(Xva, yva)
    hyperdial.report(error=error, step=epoch)
    print(f"epoch {epoch} error {error:.4f}", flush=True)
