"""Demand forecasting for many series at once: panel preparation, statsforecast local models, a global LightGBM
model (mlforecast), rolling-origin backtest, per-series (or per-segment) model choice by out-of-sample error,
conformal prediction intervals, MAE / WAPE / MASE.

Pure computation (numpy / pandas / statsforecast / mlforecast / LightGBM; no I/O, no clock). Entry points:
`frames.prepare_panel` (sales rows -> panel) and `pipeline.run_forecast` (panel -> forecasts, choice, errors).
"""
