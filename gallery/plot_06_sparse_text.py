"""
A sparse text classifier
========================

Text becomes a sparse matrix: one column per word (or per hashed word),
almost all zeros. cyneuron's estimators take scipy's CSR matrices as they
are, never densified, and train to the bits of the dense copy. The corpus
here is made up in the script (four topics, sentences drawn from a few
words each plus common words), so nothing is downloaded.
"""

import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.metrics import ConfusionMatrixDisplay
from sklearn.model_selection import train_test_split

import cyneuron as cn

TOPICS = {
    "space": "orbit rocket launch planet moon star telescope astronaut "
             "galaxy satellite gravity comet",
    "cooking": "recipe oven flour butter garlic simmer bake sauce onion "
               "pepper dough salt",
    "football": "goal striker referee penalty league match keeper coach "
                "corner offside stadium score",
    "finance": "market stock bond interest inflation bank loan investor "
               "dividend currency profit budget",
}
COMMON = ("the a of and to in is was for on with that it this very new "
          "after before today").split()

warnings.filterwarnings("ignore", category=ConvergenceWarning)  # 20 epochs
rng = np.random.default_rng(0)
texts, labels = [], []
for _ in range(2000):
    topic = rng.choice(list(TOPICS))
    words = list(rng.choice(TOPICS[topic].split(), size=rng.integers(1, 3)))
    words += list(rng.choice(COMMON, size=rng.integers(4, 9)))
    for _ in range(rng.integers(0, 3)):           # words of any topic
        words += [rng.choice(TOPICS[rng.choice(list(TOPICS))].split())]
    rng.shuffle(words)
    texts.append(" ".join(words))
    labels.append(topic)
print(texts[0], "->", labels[0])

# %%
# Hash the words into 4096 columns: a CSR matrix with a dozen non-zeros a
# row, a fraction of a percent of the dense array's memory.
vectorizer = HashingVectorizer(n_features=4096, alternate_sign=False,
                               norm="l2")
X = vectorizer.transform(texts)
X_train, X_test, y_train, y_test = train_test_split(
    X, labels, test_size=0.25, random_state=0)
dense_bytes = X.shape[0] * X.shape[1] * 8
sparse_bytes = X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
print(f"{type(X).__name__} {X.shape}, {X.nnz} non-zeros: {sparse_bytes:,} "
      f"bytes against {dense_bytes:,} dense")

clf = cn.MLPClassifier(hidden_layer_sizes=(32,), max_iter=20,
                       random_state=0)
clf.fit(X_train, y_train)
print(f"test accuracy {clf.score(X_test, y_test):.3f}")

# %%
# The same training on the dense copy gives the same bits:
dense = cn.MLPClassifier(hidden_layer_sizes=(32,), max_iter=20,
                         random_state=0).fit(X_train.toarray(), y_train)
print("same model as on the dense copy:", dense.digest() == clf.digest())

ConfusionMatrixDisplay.from_predictions(y_test, clf.predict(X_test),
                                        cmap="Blues")
plt.title("test rows: true topic (rows) against predicted")
plt.show()
