"""python-for-android's sqlite3 recipe, built with R*Tree (`p4a.local_recipes`).

The device replica is a GeoPackage whose spatial index is an R*Tree, and `sync.replica`
refuses to open where SQLite lacks it. The stock recipe runs SQLite's autosetup
`configure` without `--enable-rtree`, which leaves R*Tree out; SQLite's configure takes
`-DSQLITE_ENABLE_*` flags from CFLAGS as feature flags, so adding the define here is
enough. p4a picks a local recipe of the same name before its own.
"""

from pythonforandroid.recipes.sqlite3 import Sqlite3Recipe

RTREE_FLAG = "-DSQLITE_ENABLE_RTREE=1"


class RtreeSqlite3Recipe(Sqlite3Recipe):
    def get_recipe_env(self, arch=None, with_flags_in_cc=True):
        env = super().get_recipe_env(arch, with_flags_in_cc)
        env["CFLAGS"] = f"{env.get('CFLAGS', '')} {RTREE_FLAG}".strip()
        return env


recipe = RtreeSqlite3Recipe()
