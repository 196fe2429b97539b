"""The loader corpus: real-world variants of a CC GENERAL file, built from the demo data.

:mod:`tests.corpus.cases` says how each file is written and what loading it must give;
:mod:`tests.corpus.build` writes the files and their table of outcomes into
``tests/data/corpus/`` (``make corpus``).
"""
