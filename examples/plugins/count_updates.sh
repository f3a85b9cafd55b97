#!/bin/bash
# A ze plugin with no ze library: bash, openssl s_client (TLS 1.3) and jq.
# It completes the five start-up stages, counts the UPDATE events it gets (summary format)
# and answers the command `show update-count`.
#   process count-updates { run "examples/plugins/count_updates.sh"; }
set -u
host=${ZE_PLUGIN_HUB_HOST:?started by ze}
port=${ZE_PLUGIN_HUB_PORT:?}
name=${ZE_PLUGIN_NAME:-count-updates}
token=${ZE_PLUGIN_HUB_TOKEN:?}
unset ZE_PLUGIN_HUB_TOKEN

log() { printf '%s: %s\n' "$name" "$*" >&2; }

# Pin ze's certificate: the SHA-256 of its DER must be ZE_PLUGIN_CERT_FP.
fp=$(openssl s_client -connect "$host:$port" -tls1_3 </dev/null 2>/dev/null |
    openssl x509 -outform DER 2>/dev/null | sha256sum | cut -d' ' -f1)
if [ "$fp" != "${ZE_PLUGIN_CERT_FP:-}" ]; then
    log "certificate fingerprint $fp is not the pinned one; refusing"
    exit 1
fi

coproc ZE { exec openssl s_client -quiet -tls1_3 -connect "$host:$port" 2>/dev/null; }
send() { printf '%s\n' "$1" >&"${ZE[1]}"; }
recv() { IFS= read -r line <&"${ZE[0]}" || { log "ze closed the connection"; exit 0; }; }

count=0
prefixes=0
next=1
# parse "#ID VERB [JSON]" of $line into id, verb, json
split() {
    id=${line%% *}; id=${id#\#}
    local rest=${line#* }
    verb=${rest%% *}
    json=${rest#"$verb"}; json=${json# }
    [ -n "$json" ] || json='{}'
}
# answer one request from ze
serve() {
    case "$verb" in
    ze-plugin-callback:deliver-batch)
        n=$(jq '.events | length' <<<"$json")
        p=$(jq '[.events[].bgp.update.nlri // {} | .[] | .add // 0] | add // 0' <<<"$json")
        count=$((count + n)); prefixes=$((prefixes + p))
        send "#$id ok" ;;
    ze-plugin-callback:execute-command)
        send "#$id ok $(jq -cn --argjson c "$count" --argjson p "$prefixes" \
            '{status:"done",data:{updates:$c,prefixes:$p}}')" ;;
    ze-plugin-callback:bye)
        send "#$id ok"; log "bye"; exit 0 ;;
    ze-plugin-callback:*)
        send "#$id ok" ;;
    *)
        send "#$id error {\"code\":\"unknown-method\",\"message\":\"$verb\"}" ;;
    esac
}
# send a request and wait for its response, serving ze's requests meanwhile
call() {
    local want=$next
    send "#$want $1 $2"
    next=$((next + 1))
    while recv; do
        split
        if [ "$id" = "$want" ] && { [ "$verb" = ok ] || [ "$verb" = error ]; }; then
            [ "$verb" = ok ] || { log "$1 failed: $json"; exit 1; }
            return 0
        fi
        serve
    done
}
# wait for one request of ze (a stage callback) and answer it
expect() {
    while recv; do
        split
        serve
        [ "$verb" = "$1" ] && return 0
    done
}

send "#0 auth $(jq -cn --arg t "$token" --arg n "$name" '{token:$t,name:$n}')"
recv
[ "$line" = "#0 ok" ] || { log "auth refused: $line"; exit 1; }

call ze-plugin-engine:declare-registration \
    '{"families":[{"name":"ipv4/unicast","mode":"both"}],"commands":[{"name":"show update-count","description":"UPDATEs counted by the shell plugin","args":[]}],"dependencies":[],"wants-config":[],"wants-validate-open":false,"filters":[]}'
expect ze-plugin-callback:configure
call ze-plugin-engine:declare-capabilities '{"capabilities":[]}'
expect ze-plugin-callback:share-registry
call ze-plugin-engine:ready '{"subscribe":{"events":["bgp/update"],"format":"summary","encoding":"json"}}'
log "ready"
while recv; do
    split
    serve
done
