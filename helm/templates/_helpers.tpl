{{/* Names and labels. */}}
{{- define "ticketing.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "ticketing.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "ticketing.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "ticketing.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: ticketing
{{- end -}}

{{/* Labels of one component: (dict "root" $ "component" "gateway") */}}
{{- define "ticketing.componentLabels" -}}
{{ include "ticketing.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "ticketing.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ticketing.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* The in-cluster host name of a component's Service. */}}
{{- define "ticketing.host" -}}
{{- printf "%s-%s" (include "ticketing.fullname" .root) .component -}}
{{- end -}}

{{/*
What each component is wired to. This is the product's shape, not configuration: which
servers a service uses and which of its variables point at the others.
*/}}
{{- define "ticketing.wiring" -}}
gateway: { mongo: false, redis: true, nats: true, subgraph: false, stripe: false }
auth: { mongo: true, redis: true, nats: true, subgraph: true, stripe: false }
tickets: { mongo: true, redis: false, nats: true, subgraph: true, stripe: false }
orders: { mongo: true, redis: false, nats: true, subgraph: true, stripe: false }
payments: { mongo: true, redis: false, nats: true, subgraph: true, stripe: true }
passes: { mongo: true, redis: false, nats: true, subgraph: true, stripe: false }
expiration: { mongo: false, redis: true, nats: true, subgraph: false, stripe: false }
{{- end -}}

{{/* The image of a component: (dict "root" $ "component" "gateway" "values" $values) */}}
{{- define "ticketing.image" -}}
{{- $image := .values.image | default dict -}}
{{- $repository := $image.repository -}}
{{- if not $repository -}}
{{- $registry := required "image.registry is required: where the release workflow pushed the images, e.g. --set image.registry=ghcr.io/your-org (or set components.<name>.image.repository)" .root.Values.image.registry -}}
{{- $repository = printf "%s/ticketing-%s" (trimSuffix "/" $registry) .component -}}
{{- end -}}
{{- $tag := $image.tag | default .root.Values.image.tag | default .root.Chart.AppVersion -}}
{{- if $image.digest -}}
{{- /* By digest (the packaged chart's images); the tag stays for whoever reads the Pod. */ -}}
{{- printf "%s:%s@%s" $repository $tag $image.digest -}}
{{- else if hasPrefix "sha256:" $tag -}}
{{- printf "%s@%s" $repository $tag -}}
{{- else -}}
{{- printf "%s:%s" $repository $tag -}}
{{- end -}}
{{- end -}}

{{/* The public origin browsers use. */}}
{{- define "ticketing.publicOrigin" -}}
{{- if .Values.publicOrigin -}}
{{- .Values.publicOrigin -}}
{{- else if .Values.ingress.enabled -}}
{{- $host := required "ingress.host is required when ingress.enabled: the public host name, e.g. --set ingress.host=tickets.example.com" .Values.ingress.host -}}
{{- printf "%s://%s" (ternary "https" "http" .Values.ingress.tls.enabled) $host -}}
{{- end -}}
{{- end -}}

{{/* The Secret generated for a laptop cluster (secrets.generateForDevelopment). */}}
{{- define "ticketing.devSecretName" -}}
{{- printf "%s-dev-secrets" (include "ticketing.fullname" .) -}}
{{- end -}}

{{/* Where the in-chart MongoDB's root credentials are: a dict with name, usernameKey, passwordKey. */}}
{{- define "ticketing.mongoCredentials" -}}
{{- $s := .Values.secrets.mongodb -}}
{{- if $s.name -}}
{{- toYaml (dict "name" $s.name "usernameKey" $s.usernameKey "passwordKey" $s.passwordKey) -}}
{{- else if .Values.secrets.generateForDevelopment -}}
{{- toYaml (dict "name" (include "ticketing.devSecretName" .) "usernameKey" "mongodb-username" "passwordKey" "mongodb-password") -}}
{{- else -}}
{{- fail "secrets.mongodb.name is required for the in-chart MongoDB: create a Secret with the keys username and password (docs/operations.md, Secrets) and set its name, or use an external server (mongodb.enabled=false, mongodb.external.urlSecret.name)" -}}
{{- end -}}
{{- end -}}

{{/*
The in-chart MongoDB's users: secretName (the Secret of their passwords), list (each with user,
db where it is defined, roles, passwordKey, passwordEnv) and byUser. Each service's user is named
after it and has readWrite on its own database only; the backup user has the backup role.
*/}}
{{- define "ticketing.mongoUsers" -}}
{{- $s := .Values.secrets.mongodbUsers -}}
{{- $dev := and (not $s.name) .Values.secrets.generateForDevelopment -}}
{{- $secretName := $s.name -}}
{{- if $dev -}}
{{- $secretName = include "ticketing.devSecretName" . -}}
{{- else if not $secretName -}}
{{- fail "secrets.mongodbUsers.name is required for the in-chart MongoDB: create a Secret with a password for each of the keys auth, tickets, orders, payments, passes and backup (docs/operations.md, Secrets) and set its name" -}}
{{- end -}}
{{- $list := list -}}
{{- $byUser := dict -}}
{{- range $user := list "auth" "tickets" "orders" "payments" "passes" "backup" -}}
{{- $db := ternary "admin" (printf "ticketing-%s" $user) (eq $user "backup") -}}
{{- $role := ternary (dict "role" "backup" "db" "admin") (dict "role" "readWrite" "db" $db) (eq $user "backup") -}}
{{- $key := ternary (printf "mongodb-%s-password" $user) (required (printf "secrets.mongodbUsers.passwordKeys.%s is required: the key of %s's password in secrets.mongodbUsers.name" $user $user) (get $s.passwordKeys $user)) $dev -}}
{{- $entry := dict "user" $user "db" $db "roles" (list $role) "passwordKey" $key "passwordEnv" (printf "PASSWORD_%s" (upper $user)) -}}
{{- $list = append $list $entry -}}
{{- $_ := set $byUser $user $entry -}}
{{- end -}}
{{- toYaml (dict "secretName" $secretName "list" $list "byUser" $byUser) -}}
{{- end -}}

{{/* Where auth's signing keys are: a dict with name, currentKey, nextKey, previousKey. */}}
{{- define "ticketing.authSigningKeys" -}}
{{- $s := .Values.secrets.authSigningKeys -}}
{{- if $s.name -}}
{{- toYaml (dict "name" $s.name "currentKey" $s.currentKey "nextKey" $s.nextKey "previousKey" $s.previousKey) -}}
{{- else if .Values.secrets.generateForDevelopment -}}
{{- toYaml (dict "name" (include "ticketing.devSecretName" .) "currentKey" "auth-signing-key-current" "nextKey" "auth-signing-key-next" "previousKey" "auth-signing-key-previous") -}}
{{- else -}}
{{- fail "secrets.authSigningKeys.name is required: create a Secret with the keys current and next, each an Ed25519 private key (openssl genpkey -algorithm ed25519; docs/operations.md, Secrets), and set its name" -}}
{{- end -}}
{{- end -}}

{{/* Where the in-chart Redis's password is: a dict with name, passwordKey. */}}
{{- define "ticketing.redisCredentials" -}}
{{- $s := .Values.secrets.redis -}}
{{- if $s.name -}}
{{- toYaml (dict "name" $s.name "passwordKey" $s.passwordKey) -}}
{{- else if .Values.secrets.generateForDevelopment -}}
{{- toYaml (dict "name" (include "ticketing.devSecretName" .) "passwordKey" "redis-password") -}}
{{- else -}}
{{- fail "secrets.redis.name is required for the in-chart Redis: create a Secret with the key password (docs/operations.md, Secrets) and set its name, or use an external server (redis.enabled=false, redis.external.urlSecret.name)" -}}
{{- end -}}
{{- end -}}

{{- define "ticketing.natsUrl" -}}
{{- if .Values.nats.enabled -}}
{{- printf "nats://%s-nats:4222" (include "ticketing.fullname" .) -}}
{{- else -}}
{{- required "nats.external.url is required when nats.enabled=false: the external NATS server, e.g. nats://nats.nats.svc:4222" .Values.nats.external.url -}}
{{- end -}}
{{- end -}}

{{/* The NATS users and their permissions (files/nats-permissions.json, generated from the code's declaration). */}}
{{- define "ticketing.natsPermissions" -}}
{{- .Files.Get "files/nats-permissions.json" -}}
{{- end -}}

{{/*
Where the NATS users' passwords are: a dict with name and keys (user: key), one key per user; empty
for an external NATS without users. The in-chart NATS always has them.
*/}}
{{- define "ticketing.natsCredentials" -}}
{{- $s := .Values.secrets.nats -}}
{{- $users := keys (include "ticketing.natsPermissions" . | fromJson) | sortAlpha -}}
{{- $keys := dict -}}
{{- if $s.name -}}
{{- range $user := $users -}}
{{- $_ := set $keys $user (required (printf "secrets.nats.passwordKeys.%s is required: the key of the NATS user %s's password in secrets.nats.name" $user $user) (get ($s.passwordKeys | default dict) $user)) -}}
{{- end -}}
{{- toYaml (dict "name" $s.name "keys" $keys) -}}
{{- else if and .Values.nats.enabled .Values.secrets.generateForDevelopment -}}
{{- range $user := $users -}}
{{- $_ := set $keys $user (printf "nats-%s-password" $user) -}}
{{- end -}}
{{- toYaml (dict "name" (include "ticketing.devSecretName" .) "keys" $keys) -}}
{{- else if .Values.nats.enabled -}}
{{- fail (printf "secrets.nats.name is required for the in-chart NATS: create a Secret with a password for each of the keys %s (docs/operations.md, Secrets) and set its name" (join ", " $users)) -}}
{{- end -}}
{{- end -}}

{{/* A NATS URL with a user's credentials, the password from $(NATS_PASSWORD): (dict "root" $ "user" "orders") */}}
{{- define "ticketing.natsUserUrl" -}}
{{- $servers := list -}}
{{- range $server := splitList "," (include "ticketing.natsUrl" .root) -}}
{{- $scheme := ternary (regexFind "^[a-z]+://" $server) "nats://" (regexMatch "^[a-z]+://" $server) -}}
{{- $servers = append $servers (printf "%s%s:$(NATS_PASSWORD)@%s" $scheme $.user (trimPrefix $scheme $server)) -}}
{{- end -}}
{{- join "," $servers -}}
{{- end -}}

{{/* Plain (non-secret) settings of a component: (dict "root" $ "component" "auth" "values" $values) */}}
{{- define "ticketing.configData" -}}
{{- $root := .root -}}
{{- $wiring := get (include "ticketing.wiring" . | fromYaml) .component -}}
{{- $data := dict "NODE_ENV" $root.Values.nodeEnv "LOG_LEVEL" $root.Values.logLevel "HOST" "0.0.0.0" "PORT" (toString .values.port) -}}
{{- if and $wiring.nats (not (include "ticketing.natsCredentials" $root)) -}}
{{- $_ := set $data "NATS_URL" (include "ticketing.natsUrl" $root) -}}
{{- end -}}
{{- $auth := $root.Values.components.auth -}}
{{- $authHost := include "ticketing.host" (dict "root" $root "component" "auth") -}}
{{- $authUrl := printf "http://%s:%d" $authHost (int $auth.port) -}}
{{- if $wiring.subgraph -}}
{{- $_ := set $data "AUTH_JWKS_URL" (printf "http://%s:%d/.well-known/jwks.json" $authHost (int ($auth.jwksPort | default $auth.port))) -}}
{{- end -}}
{{- if and (eq .component "auth") .values.jwksPort -}}
{{- $_ := set $data "JWKS_PORT" (toString .values.jwksPort) -}}
{{- end -}}
{{- if eq .component "auth" -}}
{{- /* The SPA's origin, for the password reset links auth writes. */ -}}
{{- $authOrigin := include "ticketing.publicOrigin" $root -}}
{{- if $authOrigin -}}
{{- $_ := set $data "PUBLIC_ORIGIN" $authOrigin -}}
{{- end -}}
{{- end -}}
{{- if and (eq .component "gateway") .values.metricsPort -}}
{{- $_ := set $data "METRICS_PORT" (toString .values.metricsPort) -}}
{{- end -}}
{{- if eq .component "gateway" -}}
{{- $_ := set $data "AUTH_URL" $authUrl -}}
{{- $origin := include "ticketing.publicOrigin" $root -}}
{{- if $origin -}}
{{- $_ := set $data "PUBLIC_ORIGIN" $origin -}}
{{- end -}}
{{- range $name := list "auth" "tickets" "orders" "payments" "passes" -}}
{{- $c := get $root.Values.components $name -}}
{{- if $c.enabled -}}
{{- $_ := set $data (printf "SUBGRAPH_%s_URL" (upper $name)) (printf "http://%s:%d/graphql" (include "ticketing.host" (dict "root" $root "component" $name)) (int $c.port)) -}}
{{- end -}}
{{- end -}}
{{- $payments := $root.Values.components.payments -}}
{{- $_ := set $data "PAYMENTS_WEBHOOK_URL" (printf "http://%s:%d/webhooks/stripe" (include "ticketing.host" (dict "root" $root "component" "payments")) (int $payments.port)) -}}
{{- end -}}
{{- if and $wiring.stripe (eq $root.Values.stripe.mode "sandbox") -}}
{{- $_ := set $data "STRIPE_MOCK_URL" (printf "http://%s:12111" (include "ticketing.host" (dict "root" $root "component" "stripe-mock"))) -}}
{{- end -}}
{{- /* Rollouts (docs/operations.md): after SIGTERM a pod serves on, unready, while endpoints
forget it, then shuts down within its grace period less a margin for the kill to come late. */ -}}
{{- $grace := int (.values.terminationGracePeriodSeconds | default 30) -}}
{{- $_ := set $data "SHUTDOWN_DELAY_MS" "5000" -}}
{{- $_ := set $data "SHUTDOWN_TIMEOUT_MS" (toString (mul (sub $grace 5) 1000)) -}}
{{- with $root.Values.tracing -}}
{{- if .endpoint -}}
{{- $_ := set $data "OTEL_EXPORTER_OTLP_ENDPOINT" .endpoint -}}
{{- $_ := set $data "OTEL_EXPORTER_OTLP_PROTOCOL" .protocol -}}
{{- $_ := set $data "OTEL_TRACES_SAMPLER_ARG" (toString .sampleRatio) -}}
{{- end -}}
{{- end -}}
{{- range $key, $value := .values.env -}}
{{- $_ := set $data $key (toString $value) -}}
{{- end -}}
{{- $delay := int (get $data "SHUTDOWN_DELAY_MS") -}}
{{- $budget := int (get $data "SHUTDOWN_TIMEOUT_MS") -}}
{{- if ge $budget (mul $grace 1000) -}}
{{- fail (printf "components.%s: SHUTDOWN_TIMEOUT_MS (%d ms) must be less than its terminationGracePeriodSeconds (%d s), or Kubernetes kills it mid-shutdown" .component $budget $grace) -}}
{{- end -}}
{{- if ge $delay $budget -}}
{{- fail (printf "components.%s: SHUTDOWN_DELAY_MS (%d ms) must be less than SHUTDOWN_TIMEOUT_MS (%d ms, terminationGracePeriodSeconds less 5 s), which it is part of" .component $delay $budget) -}}
{{- end -}}
{{- toYaml $data -}}
{{- end -}}

{{/* Variables from Secrets, as a container's env list: (dict "root" $ "component" "auth" "values" $values) */}}
{{- define "ticketing.secretEnv" -}}
{{- $root := .root -}}
{{- $wiring := get (include "ticketing.wiring" . | fromYaml) .component -}}
{{- $nats := include "ticketing.natsCredentials" $root | fromYaml }}
{{- if and $wiring.nats $nats }}
- name: NATS_PASSWORD
  valueFrom: { secretKeyRef: { name: {{ $nats.name }}, key: {{ get $nats.keys .component }} } }
- name: NATS_URL
  value: {{ include "ticketing.natsUserUrl" (dict "root" $root "user" .component) | quote }}
{{- end }}
{{- if $wiring.mongo }}
{{- if $root.Values.mongodb.enabled }}
{{- $users := include "ticketing.mongoUsers" $root | fromYaml }}
{{- $user := get $users.byUser .component }}
- name: MONGO_PASSWORD
  valueFrom: { secretKeyRef: { name: {{ $users.secretName }}, key: {{ $user.passwordKey }} } }
- name: MONGO_URL
  value: {{ printf "mongodb://%s:$(MONGO_PASSWORD)@%s-mongodb:27017/?authSource=%s" $user.user (include "ticketing.fullname" $root) $user.db | quote }}
{{- else }}
{{- $url := $root.Values.mongodb.external.urlSecret }}
- name: MONGO_URL
  valueFrom: { secretKeyRef: { name: {{ required "mongodb.external.urlSecret.name is required when mongodb.enabled=false: a Secret holding the MongoDB URL (docs/operations.md, Secrets)" $url.name }}, key: {{ $url.key }} } }
{{- end }}
{{- end }}
{{- if $wiring.redis }}
{{- if $root.Values.redis.enabled }}
{{- $creds := include "ticketing.redisCredentials" $root | fromYaml }}
- name: REDIS_PASSWORD
  valueFrom: { secretKeyRef: { name: {{ $creds.name }}, key: {{ $creds.passwordKey }} } }
- name: REDIS_URL
  value: {{ printf "redis://:$(REDIS_PASSWORD)@%s-redis:6379" (include "ticketing.fullname" $root) | quote }}
{{- else }}
{{- $url := $root.Values.redis.external.urlSecret }}
- name: REDIS_URL
  valueFrom: { secretKeyRef: { name: {{ required "redis.external.urlSecret.name is required when redis.enabled=false: a Secret holding the Redis URL (docs/operations.md, Secrets)" $url.name }}, key: {{ $url.key }} } }
{{- end }}
{{- end }}
{{- if eq .component "auth" }}
{{- $keys := include "ticketing.authSigningKeys" $root | fromYaml }}
- name: AUTH_SIGNING_KEY_CURRENT
  valueFrom: { secretKeyRef: { name: {{ $keys.name }}, key: {{ $keys.currentKey }} } }
- name: AUTH_SIGNING_KEY_NEXT
  valueFrom: { secretKeyRef: { name: {{ $keys.name }}, key: {{ $keys.nextKey }} } }
- name: AUTH_SIGNING_KEY_PREVIOUS
  valueFrom: { secretKeyRef: { name: {{ $keys.name }}, key: {{ $keys.previousKey }}, optional: true } }
{{- end }}
{{- if and $wiring.stripe (eq $root.Values.stripe.mode "live") }}
{{- $s := $root.Values.secrets.stripe }}
{{- $name := required "secrets.stripe.name is required with stripe.mode=live: create a Secret with the keys secret-key and webhook-secret (docs/operations.md, Secrets), or use stripe.mode=sandbox" $s.name }}
- name: STRIPE_SECRET_KEY
  valueFrom: { secretKeyRef: { name: {{ $name }}, key: {{ $s.secretKeyKey }} } }
- name: STRIPE_WEBHOOK_SECRET
  valueFrom: { secretKeyRef: { name: {{ $name }}, key: {{ $s.webhookSecretKey }} } }
{{- end }}
{{- range .values.secretEnv }}
- name: {{ required "components.<name>.secretEnv[].name is required" .name }}
  valueFrom: { secretKeyRef: { name: {{ required "components.<name>.secretEnv[].secretName is required" .secretName }}, key: {{ required "components.<name>.secretEnv[].key is required" .key }} } }
{{- end }}
{{- end -}}

{{/* An HTTP probe: (dict "probe" $probe "port" "http") */}}
{{- define "ticketing.httpProbe" -}}
httpGet:
  path: {{ .probe.path }}
  port: http
periodSeconds: {{ .probe.periodSeconds }}
timeoutSeconds: {{ .probe.timeoutSeconds }}
failureThreshold: {{ .probe.failureThreshold }}
{{- end -}}

{{/* nats-server's configuration: (dict "root" $ "name" "<release>-nats" "replicas" 3) */}}
{{- define "ticketing.natsConfig" -}}
{{- $n := .root.Values.nats -}}
server_name: $SERVER_NAME
port: 4222
http_port: 8222
pid_file: /var/run/nats/nats.pid
lame_duck_duration: 30s
lame_duck_grace_period: 10s
max_payload: 1MB
jetstream {
  store_dir: /data/jetstream
  max_memory_store: {{ $n.jetstream.maxMemoryStore }}
  max_file_store: {{ $n.jetstream.maxFileStore }}
}
# One user per component, each publishing only its own subjects; passwords from the environment.
{{- $permissions := include "ticketing.natsPermissions" .root | fromJson }}
authorization {
  users: [
{{- range $user := keys $permissions | sortAlpha }}
    { user: {{ $user | quote }}, password: $NATS_PASSWORD_{{ upper $user }}, permissions: {{ get $permissions $user | toJson | replace "\\u003e" ">" }} }
{{- end }}
  ]
}
{{- if gt (int .replicas) 1 }}
cluster {
  name: {{ .name }}
  port: 6222
  routes: [
{{- range $i := until (int .replicas) }}
    nats://{{ $.name }}-{{ $i }}.{{ $.name }}-headless:6222
{{- end }}
  ]
  connect_retries: 120
}
{{- end }}
{{- end -}}

{{/*
A size in bytes: (dict "name" "jetstream.limits.X.maxBytes" "value" "12GB"). An integer is bytes;
KB, MB, GB and TB (K, M, G, T, KiB, …) are powers of 1024, as nats-server reads them.
*/}}
{{- define "ticketing.bytes" -}}
{{- $v := .value -}}
{{- if or (kindIs "float64" $v) (kindIs "int64" $v) (kindIs "int" $v) -}}
{{- int64 $v -}}
{{- else if include "ticketing.isSize" $v -}}
{{- $n := regexFind "^[0-9]+" (toString $v) | int64 -}}
{{- $unit := regexFind "[KMGT]" (upper (toString $v)) | default "B" -}}
{{- mul $n (get (dict "B" 1 "K" 1024 "M" 1048576 "G" 1073741824 "T" 1099511627776) $unit) -}}
{{- else -}}
{{- fail (printf "%s: %q is not a size (bytes, or a number with KB, MB, GB or TB)" .name (toString $v)) -}}
{{- end -}}
{{- end -}}

{{/* "true" when a string is a size "ticketing.bytes" reads, else empty. */}}
{{- define "ticketing.isSize" -}}
{{- if regexMatch "^[0-9]+ *([KMGT](I?B)?|B)?$" (upper (toString .)) -}}true{{- end -}}
{{- end -}}

{{/*
A NetworkPolicy peer from values with a namespaceSelector and/or a podSelector:
(dict "name" "networkPolicies.dns" "peer" $values)
*/}}
{{- define "ticketing.networkPeer" -}}
{{- if not (or .peer.namespaceSelector .peer.podSelector) -}}
{{- fail (printf "%s needs a namespaceSelector or a podSelector" .name) -}}
{{- end -}}
{{- with .peer.namespaceSelector }}
namespaceSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .peer.podSelector }}
podSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/*
The versions of the Secrets a pod's variables come from (each Secret's resourceVersion, read from
the cluster; none with `helm template`): as a pod annotation, a `helm upgrade` after a Secret
changed rolls the pods that read it. No secret value goes into it.
(dict "root" $ "env" <a container's env list as YAML>)
*/}}
{{- define "ticketing.secretsVersion" -}}
{{- $root := .root -}}
{{- $names := list -}}
{{- range (printf "env:\n%s" .env | fromYaml).env -}}
{{- with ((.valueFrom).secretKeyRef) -}}
{{- $names = append $names .name -}}
{{- end -}}
{{- end -}}
{{- $versions := list -}}
{{- range $name := $names | uniq | sortAlpha -}}
{{- $secret := lookup "v1" "Secret" $root.Release.Namespace $name -}}
{{- $versions = append $versions (printf "%s=%s" $name ((($secret).metadata).resourceVersion | default "")) -}}
{{- end -}}
{{- join "," $versions | sha256sum -}}
{{- end -}}
