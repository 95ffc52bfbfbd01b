"""Métropole: the shared digital platform of a French métropole and its communes."""
