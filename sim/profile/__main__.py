"""``python -m sim.profile --schema > profiles/schema.json``: the profile format's JSON Schema."""

import json
import sys

from sim.profile.io import profile_json_schema

if sys.argv[1:] == ["--schema"]:
    print(json.dumps(profile_json_schema(), indent=1))
else:
    sys.exit("usage: python -m sim.profile --schema")
