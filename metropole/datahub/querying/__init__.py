"""Query engine of the data hub: grammar, compiler to parameterised SQL, execution, exports.

Owned by datahub-query. Storage layout and the :class:`~.spec.TableSpec` contract are described in
``docs/datahub-query.md``.
"""
