"""Image ingest, the pure parts: image sniffing and limits, marketplace image rules, duplicate checks by
perceptual hash, attributes with confidences and sources, OCR text parsing, barcode identifiers, dominant
colours, and the offline listing draft.

No I/O and no clock: pixels, bytes and OCR lines come in as arguments (numpy is used for the colour maths).
"""
