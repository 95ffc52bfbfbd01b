"""Ingestion: read a source file (CSV, XLSX, ODS, JSON, GeoJSON) in batches, infer its
column types, check it against a declared Table Schema and for personal data, and store
it in the version's own table (see `pipeline.load_version`)."""
