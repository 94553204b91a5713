"""A training script to tune: SGD on scikit-learn's digits, reporting the validation error per epoch.

It knows nothing of hyperdial's study: it reads its arguments and calls `hyperdial.report`
(or could print `hyperdial: {"error": 0.12, "step": 3}` lines, from any language).

    python train.py --lr 0.05 --alpha 1e-4
"""

import argparse

import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import SGDClassifier
from sklearn.model_selection import train_test_split

import hyperdial

parser = argparse.ArgumentParser()
parser.add_argument("--lr", type=float, default=0.01)
parser.add_argument("--alpha", type=float, default=1e-4)
parser.add_argument("--loss", default="hinge")
parser.add_argument("--penalty", default="l2")
parser.add_argument("--l1_ratio", type=float, default=0.15)
parser.add_argument("--epochs", type=int, default=10)
args = parser.parse_args()

X, y = load_digits(return_X_y=True)
X_train, X_val, y_train, y_val = train_test_split(X / 16.0, y, test_size=0.3, random_state=0)
model = SGDClassifier(loss=args.loss, penalty=args.penalty, l1_ratio=args.l1_ratio, alpha=args.alpha,
                      learning_rate="constant", eta0=args.lr, random_state=0)
for epoch in range(1, args.epochs + 1):
    model.partial_fit(X_train, y_train, classes=np.unique(y))
    error = 1.0 - model.score(X_val, y_val)
    print(f"epoch {epoch}: validation error {error:.4f}", flush=True)
    hyperdial.report(error=error, step=epoch)
