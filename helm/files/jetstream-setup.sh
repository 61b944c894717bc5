#!/bin/sh
# Creates or updates the JetStream streams and creates the missing durable consumers, from the
# JetStream API JSON files in $CONFIG_DIR (stream.<name>.json, consumer.<durable>.json).
set -eu

deadline=$(($(date +%s) + WAIT_SECONDS))
until nats stream ls >/dev/null 2>&1; do
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "NATS at $NATS_URL did not answer with JetStream within ${WAIT_SECONDS}s" >&2
    nats stream ls >&2 || true
    exit 1
  fi
  sleep 2
done

for file in "$CONFIG_DIR"/stream.*.json; do
  name=${file##*/stream.}
  name=${name%.json}
  if nats stream info "$name" >/dev/null 2>&1; then
    echo "stream $name: updating"
    nats stream edit "$name" --config "$file" --force
  else
    echo "stream $name: creating"
    nats stream add "$name" --config "$file"
  fi
done

for file in "$CONFIG_DIR"/consumer.*.json; do
  [ -e "$file" ] || continue
  durable=${file##*/consumer.}
  durable=${durable%.json}
  if nats consumer info "$STREAM" "$durable" >/dev/null 2>&1; then
    echo "consumer $durable: present (its service keeps its settings)"
  else
    echo "consumer $durable: creating"
    nats consumer add "$STREAM" "$durable" --config "$file"
  fi
done
echo "JetStream is set up."
