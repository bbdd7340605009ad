"""Vision connectors: OCR and barcode reading behind ports, with local adapters whose models ship in their
wheels (nothing is downloaded at run time) and fakes for tests."""
