"""Payments port: card payments (authorise, capture, cancel, refund) and their signed webhooks. The adapter speaks
Stripe's PaymentIntents API through the official SDK; `sandboxes/payments` answers the same wire format locally."""
