"""
An estimator in a Pipeline and a grid search
============================================

:class:`cyneuron.MLPClassifier` is a scikit-learn estimator: it sits
behind a ``StandardScaler`` in a ``Pipeline`` and is tuned by
``GridSearchCV`` like any other. Because each fit is exact and repeatable,
the search's scores are the same bits for any ``n_jobs``.
"""

import warnings

import matplotlib.pyplot as plt
from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import cyneuron as cn

# 100 epochs keep the page fast; some fits would like more
warnings.filterwarnings("ignore", category=ConvergenceWarning)
X, y = load_breast_cancer(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, stratify=y, random_state=0)

pipe = make_pipeline(StandardScaler(),
                     cn.MLPClassifier(max_iter=100, random_state=0))
alphas = [1e-4, 1e-2, 1.0, 10.0]
sizes = [(4,), (16,), (64,)]
search = GridSearchCV(pipe, {"mlpclassifier__alpha": alphas,
                             "mlpclassifier__hidden_layer_sizes": sizes},
                      cv=3)
search.fit(X_train, y_train)
print("best:", search.best_params_)
print(f"test accuracy {search.score(X_test, y_test):.3f}")

# %%
# The mean cross-validated accuracy of every combination:
scores = search.cv_results_["mean_test_score"].reshape(len(alphas),
                                                       len(sizes))
fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
image = ax.imshow(scores, cmap="viridis")
ax.set_xticks(range(len(sizes)), [str(s) for s in sizes])
ax.set_yticks(range(len(alphas)), [f"{a:g}" for a in alphas])
ax.set_xlabel("hidden_layer_sizes")
ax.set_ylabel("alpha (L2 penalty)")
for i in range(len(alphas)):
    for j in range(len(sizes)):
        ax.text(j, i, f"{scores[i, j]:.3f}", ha="center", va="center",
                color="w")
fig.colorbar(image, label="mean accuracy, 3-fold")
plt.show()

# %%
# The fitted network inside the best pipeline:
search.best_estimator_[-1].summary()
print("digest", search.best_estimator_[-1].digest()[:16])
