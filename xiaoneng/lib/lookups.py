"""`field__under="4401"`: a prefix match written as a range, so a plain B-tree index serves it.

`startswith` becomes LIKE, which SQLite cannot serve from an index (its LIKE is
case-insensitive) and PostgreSQL only with pattern-ops indexes. Codes and paths are
ASCII, so "starts with p" is exactly "p <= value < p with its last character bumped".
"""
from django.db.models import CharField, Lookup


def prefix_upper_bound(prefix: str) -> str:
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


@CharField.register_lookup
class Under(Lookup):
    lookup_name = "under"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        prefix = str(self.rhs)
        if not prefix:
            return "1=1", []
        return f"({lhs} >= %s AND {lhs} < %s)", [*lhs_params, prefix, *lhs_params, prefix_upper_bound(prefix)]
