"""Customer segments from pseudonymised buyers: RFM and K-Means.

Buyer ids are pseudonymised with a keyed hash (HMAC-SHA256) before anything is stored or computed: the same
buyer maps to the same token under one key, nobody without the key can link a token back to an id.
RFM per buyer: recency (days since the last order), frequency (orders), monetary (revenue); each also scored 1..5
by quintile (5 = best). K-Means runs on standardised log(1 + R, F, M); clusters are numbered by mean monetary
value, highest first, so segment 0 is always the most valuable one.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import date

import numpy as np
import pandas as pd


def pseudonymise(ids: pd.Series, key: bytes) -> pd.Series:
    """Keyed, irreversible, stable tokens (32 hex characters) for buyer ids; missing ids stay missing."""
    if len(key) < 16:
        raise ValueError("the pseudonymisation key must be at least 16 bytes")
    uniques = ids.dropna().astype(str).unique()
    tokens = {u: hmac.new(key, u.encode(), hashlib.sha256).hexdigest()[:32] for u in uniques}
    return ids.astype("string").map(tokens)


def rfm(orders: pd.DataFrame, *, today: date) -> pd.DataFrame:
    """`orders`: buyer, order_id, date, revenue (one row per order or per line). Index buyer: recency_days,
    frequency, monetary, r_score, f_score, m_score."""
    o = orders.assign(date=pd.to_datetime(orders["date"]))
    g = o.groupby("buyer", sort=True)
    out = pd.DataFrame(
        {
            "recency_days": (pd.Timestamp(today) - g["date"].max()).dt.days.clip(lower=0),
            "frequency": g["order_id"].nunique(),
            "monetary": g["revenue"].sum(),
        }
    )

    def score(values: pd.Series, higher_is_better: bool) -> pd.Series:
        pct = values.rank(method="average", pct=True, ascending=higher_is_better)
        return np.ceil(pct * 5).clip(1, 5).astype(int)

    out["r_score"] = score(out["recency_days"], higher_is_better=False)
    out["f_score"] = score(out["frequency"], higher_is_better=True)
    out["m_score"] = score(out["monetary"], higher_is_better=True)
    return out


def segment_customers(table: pd.DataFrame, *, k: int = 4, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(buyers with a `segment` column, per-segment summary: buyers, mean recency / frequency / monetary)."""
    from sklearn.cluster import KMeans
    from sklearn.preprocessing import StandardScaler

    if len(table) < k:
        raise ValueError(f"{len(table)} buyers cannot form {k} segments")
    x = np.log1p(table[["recency_days", "frequency", "monetary"]].clip(lower=0).to_numpy(float))
    labels = KMeans(n_clusters=k, n_init=10, random_state=seed).fit_predict(StandardScaler().fit_transform(x))
    out = table.copy()
    out["cluster"] = labels
    order = out.groupby("cluster")["monetary"].mean().sort_values(ascending=False).index
    out["segment"] = out["cluster"].map({c: i for i, c in enumerate(order)})
    out = out.drop(columns="cluster")
    summary = out.groupby("segment").agg(
        buyers=("monetary", "size"),
        recency_days=("recency_days", "mean"),
        frequency=("frequency", "mean"),
        monetary=("monetary", "mean"),
    )
    return out, summary.reset_index()
