# A manifest for some of the sample's institutes, with their own keys:
#   jq --argjson ids '["uk","us"]' --argjson keys '[{"instituteId":"uk","signingKey":…,"encryptionKey":…},…]' \
#      --arg name "…" -f manifest-from-sample.jq manifest.sample.json
# Keeps the named institutes (with the keys given), the groups cut down to them, and the
# agreements between them only. Used by deploy/local/up.sh and deploy/compose/setup.sh.
.name = $name
| .institutes = [.institutes[] | select(.id as $i | $ids | index($i)) as $inst
    | ($keys[] | select(.instituteId == $inst.id)) as $k
    | $inst + {signingKey: $k.signingKey, encryptionKey: $k.encryptionKey}]
| .groups = [.groups[] | .members = [.members[] | select(. as $m | $ids | index($m))] | select(.members | length > 0)]
| .agreements = [.agreements[] | select(all(.parties[]; . as $p | $ids | index($p)))]
