"""Which models run, with which settings: the configuration of a forecast run and the model factories.

Local models come from statsforecast (one fit per series, compiled code): seasonal naive, naive, seasonal
exponential smoothing, AutoETS, Theta, and the intermittent-demand family Croston (optimised), ADIDA, IMAPA, TSB.
The global model is LightGBM through mlforecast: one model for all series, with lags, rolling means, calendar
features and, when the panel has them, price (absolute and relative to the series' usual price) and promotion.

AutoETS and Theta cost 5-50 ms per series and fit (measured on this 2-core machine), so they run only when the panel has
at most `slow_model_max_series` series: 10,000 series would take them well past the run's time budget.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from domain.forecasting.frames import PANDAS_FREQ, SEASON_LENGTH, Freq

FAST_MODELS = ("SeasonalNaive", "Naive", "SeasonalES", "CrostonOptimized", "ADIDA", "IMAPA", "TSB")
SLOW_MODELS = ("AutoETS", "Theta")
GLOBAL_MODELS = ("LightGBM",)
ALL_MODELS = FAST_MODELS + SLOW_MODELS + GLOBAL_MODELS
INTERMITTENT_MODELS = frozenset({"CrostonOptimized", "ADIDA", "IMAPA", "TSB"})
BASELINE = "SeasonalNaive"
DEFAULT_HORIZON: dict[str, int] = {"D": 28, "W": 8}


@dataclass(frozen=True)
class GbmSettings:
    n_estimators: int = 150
    learning_rate: float = 0.08
    num_leaves: int = 31
    min_child_samples: int = 20
    max_bin: int = 127
    subsample: float = 0.8  # row bagging: faster on millions of rows, and a little regularisation
    colsample_bytree: float = 0.9
    # periods per series the global model trains on (None: all); bounds training time on long daily histories
    train_periods: dict[str, int | None] = field(default_factory=lambda: {"D": 365, "W": None})
    # at most this many training rows: beyond it the model trains on a seeded random subset of the series and
    # still forecasts every series (a global model learns the shared dynamics from a sample)
    max_train_rows: int = 300_000
    # False: trained once at the first backtest cutoff and applied at later cutoffs with their own history
    # (a weekly retrain, daily forecasts); True: retrained at every cutoff (slower, slightly fresher)
    refit: bool = False
    seed: int = 0


@dataclass(frozen=True)
class ForecastConfig:
    freq: Freq = "D"
    horizon: int | None = None  # periods ahead; default 28 days / 8 weeks
    n_windows: int = 3  # rolling-origin cutoffs of the backtest (>= 2: the last one judges the selection)
    step: int | None = None  # periods between cutoffs; default = horizon (windows do not overlap)
    levels: tuple[int, ...] = (80, 95)
    models: tuple[str, ...] | None = None  # None: every model the budget allows
    slow_model_max_series: int = 1000
    slow_input_size: int | None = None  # periods the slow models fit on; default 16 weeks daily, all weekly
    # per segment by default: with a few windows a per-series choice chases noise (measured: worse on the
    # held-out window than the per-segment choice, on generated and on real data)
    selection: Literal["series", "segment"] = "segment"
    gbm: GbmSettings = field(default_factory=GbmSettings)
    n_jobs: int = 1

    @property
    def h(self) -> int:
        return self.horizon or DEFAULT_HORIZON[self.freq]

    @property
    def step_size(self) -> int:
        return self.step or self.h

    @property
    def season_length(self) -> int:
        return SEASON_LENGTH[self.freq]

    @property
    def pandas_freq(self) -> str:
        return PANDAS_FREQ[self.freq]

    def min_history(self) -> int:
        """Periods a series needs to take part in the backtest (every window has a season of training data)."""
        return (self.n_windows - 1) * self.step_size + self.h + self.season_length + 1

    def model_names(self, n_series: int) -> list[str]:
        wanted = list(self.models or ALL_MODELS)
        unknown = sorted(set(wanted) - set(ALL_MODELS))
        if unknown:
            raise ValueError(f"unknown models {unknown}; known: {', '.join(ALL_MODELS)}")
        if self.models is None and n_series > self.slow_model_max_series:
            wanted = [m for m in wanted if m not in SLOW_MODELS]
        if BASELINE not in wanted:
            wanted.insert(0, BASELINE)  # every report is against seasonal naive
        return wanted


def candidates(names: Sequence[str], *, intermittent: bool) -> list[str]:
    """The models worth backtesting on a series of this kind (Syntetos & Boylan's classification exists to
    choose between exponential smoothing and Croston-type methods): intermittent-demand models only on
    intermittent / lumpy series, the smooth-demand ones only on the others; seasonal naive and the global
    model on every series."""
    keep = INTERMITTENT_MODELS if intermittent else frozenset(ALL_MODELS) - INTERMITTENT_MODELS
    return [n for n in names if n in keep or n == BASELINE or n in GLOBAL_MODELS]


def stat_models(names: Sequence[str], cfg: ForecastConfig) -> list[Any]:
    """statsforecast model objects for `names` (the global model is built by `gbm_forecaster`)."""
    from statsforecast.models import (
        ADIDA,
        IMAPA,
        TSB,
        AutoETS,
        CrostonOptimized,
        Naive,
        SeasonalExponentialSmoothingOptimized,
        SeasonalNaive,
        Theta,
    )

    m = cfg.season_length
    factories = {
        "SeasonalNaive": lambda: SeasonalNaive(season_length=m, alias="SeasonalNaive"),
        "Naive": lambda: Naive(alias="Naive"),
        "SeasonalES": lambda: SeasonalExponentialSmoothingOptimized(season_length=m, alias="SeasonalES"),
        "CrostonOptimized": lambda: CrostonOptimized(alias="CrostonOptimized"),
        "ADIDA": lambda: ADIDA(alias="ADIDA"),
        "IMAPA": lambda: IMAPA(alias="IMAPA"),
        "TSB": lambda: TSB(alpha_d=0.1, alpha_p=0.1, alias="TSB"),
        # weekly seasonality (52) is beyond ETS's seasonal range: AutoETS then fits the non-seasonal forms
        # error and season forms chosen by AICc; no trend form: ZZZ costs 4x more per series and extrapolated
        # trends are what replenishment should not trust over a 4-week horizon (LightGBM and Theta cover trend)
        "AutoETS": lambda: AutoETS(season_length=m if m <= 24 else 1, model="ZNZ", alias="AutoETS"),
        "Theta": lambda: Theta(season_length=m, alias="Theta"),
    }
    return [factories[n]() for n in names if n in factories]


def _week_of_year(dates: pd.DatetimeIndex) -> np.ndarray:
    return dates.isocalendar().week.to_numpy(dtype=np.int16)


def gbm_forecaster(cfg: ForecastConfig) -> Any:
    """An unfitted mlforecast.MLForecast with one LightGBM model named `LightGBM`."""
    import lightgbm as lgb
    from mlforecast import MLForecast
    from mlforecast.lag_transforms import RollingMean, SeasonalRollingMean
    from mlforecast.target_transforms import GlobalSklearnTransformer
    from sklearn.preprocessing import FunctionTransformer

    g = cfg.gbm
    model = lgb.LGBMRegressor(
        n_estimators=g.n_estimators,
        learning_rate=g.learning_rate,
        num_leaves=g.num_leaves,
        min_child_samples=g.min_child_samples,
        max_bin=g.max_bin,
        subsample=g.subsample,
        subsample_freq=1,
        colsample_bytree=g.colsample_bytree,
        random_state=g.seed,
        n_jobs=max(1, cfg.n_jobs),
        verbose=-1,
    )
    # log1p target: one model serves series whose volumes differ by orders of magnitude
    log1p = GlobalSklearnTransformer(FunctionTransformer(func=np.log1p, inverse_func=np.expm1))
    if cfg.freq == "D":
        lags: list[int] = [1, 7, 14, 28]
        lag_transforms: dict[int, list[Any]] = {
            1: [RollingMean(window_size=7), RollingMean(window_size=28)],
            7: [SeasonalRollingMean(season_length=7, window_size=4)],
        }
        date_features: list[Any] = ["dayofweek", "month", "day"]
    else:
        lags = [1, 2, 4, 8, 52]  # 52: last year's week (rows without it train with it missing)
        lag_transforms = {1: [RollingMean(window_size=4), RollingMean(window_size=13)]}
        date_features = ["month", _week_of_year]
    return MLForecast(
        models={"LightGBM": model},
        freq=cfg.pandas_freq,
        lags=lags,
        lag_transforms=lag_transforms,
        date_features=date_features,
        target_transforms=[log1p],
        num_threads=max(1, cfg.n_jobs),
    )


def gbm_exogenous(panel: pd.DataFrame) -> list[str]:
    """Columns of the panel the global model uses as known-in-advance (dynamic) features."""
    return [c for c in ("price", "rel_price", "promo") if c in panel.columns]


def with_price_features(panel: pd.DataFrame) -> pd.DataFrame:
    """Adds `rel_price` = price / the series' median price: lets one model learn a price response across SKUs
    whose price levels differ."""
    if "price" not in panel.columns:
        return panel
    med = panel.groupby("unique_id", sort=False)["price"].transform("median")
    out = panel.copy()
    out["rel_price"] = (out["price"] / med).astype(float)
    return out
