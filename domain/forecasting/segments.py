"""Demand pattern of each series (Syntetos & Boylan, 2005): smooth, erratic, intermittent, lumpy.

ADI = periods / periods with demand (average inter-demand interval); CV2 = squared coefficient of variation of
the non-zero demand sizes. Cut-offs 1.32 and 0.49 are the published ones (Syntetos, Boylan & Croston, "On the
categorization of demand patterns", JORS 56, 2005). Series that never sold are `inactive`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

ADI_CUTOFF = 1.32
CV2_CUTOFF = 0.49
SEGMENTS = ("smooth", "erratic", "intermittent", "lumpy", "inactive")
INTERMITTENT_SEGMENTS = frozenset({"intermittent", "lumpy"})


def demand_profile(panel: pd.DataFrame) -> pd.DataFrame:
    """Per series: n_obs, nonzero share, ADI, CV2, mean, std and `segment` (index: unique_id)."""
    y = panel["y"].to_numpy(float)
    nz = np.where(y > 0, y, np.nan)
    frame = pd.DataFrame({"unique_id": panel["unique_id"].to_numpy(), "y": y, "nz": nz})
    g = frame.groupby("unique_id", sort=True)
    out = pd.DataFrame(
        {
            "n_obs": g["y"].size(),
            "n_nonzero": g["nz"].count(),
            "mean": g["y"].mean(),
            "std": g["y"].std(ddof=0),
            "nz_mean": g["nz"].mean(),
            "nz_std": g["nz"].std(ddof=0),
        }
    )
    out["adi"] = out["n_obs"] / out["n_nonzero"].where(out["n_nonzero"] > 0)
    out["cv2"] = (out["nz_std"] / out["nz_mean"]).pow(2).fillna(0.0)
    intermittent = out["adi"] >= ADI_CUTOFF
    variable = out["cv2"] >= CV2_CUTOFF
    seg = np.select(
        [out["n_nonzero"] == 0, intermittent & variable, intermittent, variable],
        ["inactive", "lumpy", "intermittent", "erratic"],
        default="smooth",
    )
    out["segment"] = seg
    return out.drop(columns=["nz_mean", "nz_std"])
