# tests/helpers/json_schema_check.py - validates socktrace's JSON against
# docs/socktrace.schema.json: SCHEMA VERB FILE, where VERB names the
# top-level shape ($defs/VERB); events and export are JSON Lines. Prints
# each violation and exits 1 on any.
import json
import sys

import jsonschema

schema_path, verb, path = sys.argv[1:4]
schema = json.load(open(schema_path))
jsonschema.Draft202012Validator.check_schema(schema)
v = jsonschema.Draft202012Validator({"$defs": schema["$defs"], "$ref": "#/$defs/" + verb})
text = open(path).read()
if verb in ("events", "export"):
    docs = [json.loads(line) for line in text.splitlines()]
else:
    docs = [json.loads(text)]
bad = 0
for i, d in enumerate(docs):
    for err in v.iter_errors(d):
        bad += 1
        print("# %s[%d] %s: %s" % (verb, i, "/".join(map(str, err.absolute_path)), err.message[:300]))
if not docs:
    print("# %s: no JSON at all" % verb)
    bad += 1
sys.exit(1 if bad else 0)
