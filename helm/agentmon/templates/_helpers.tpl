{{/* The six services and the dashboard, in the order objects are rendered. */}}
{{- define "agentmon.components" -}}
gateway ingest auth registry alerting notification web
{{- end }}

{{/* Services that own a schema and get a migration Job (PostgreSQL, or InfluxDB for ingest). */}}
{{- define "agentmon.migratingComponents" -}}
auth registry alerting notification ingest
{{- end }}

{{/* Services that own a PostgreSQL database. */}}
{{- define "agentmon.postgresComponents" -}}
auth registry alerting notification
{{- end }}

{{- define "agentmon.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Release full name, short enough that "<fullname>-notification-migrate" stays within 63 characters. */}}
{{- define "agentmon.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "agentmon.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of every object. */}}
{{- define "agentmon.labels" -}}
helm.sh/chart: {{ include "agentmon.chart" . }}
app.kubernetes.io/name: {{ include "agentmon.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: agentmon
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Selector labels of one component: (dict "root" $ "component" "gateway") */}}
{{- define "agentmon.selectorLabels" -}}
app.kubernetes.io/name: {{ include "agentmon.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "agentmon.componentLabels" -}}
{{ include "agentmon.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* Name of one component's objects: <fullname>-<component> */}}
{{- define "agentmon.componentName" -}}
{{- printf "%s-%s" (include "agentmon.fullname" .root) .component }}
{{- end }}

{{- define "agentmon.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "agentmon.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Secret the pods read: the user's, or the chart's own. */}}
{{- define "agentmon.secretName" -}}
{{- if .Values.secrets.existingSecret }}
{{- .Values.secrets.existingSecret }}
{{- else }}
{{- include "agentmon.fullname" . }}
{{- end }}
{{- end }}

{{/* Image of one component: repository[:tag][@digest] */}}
{{- define "agentmon.image" -}}
{{- $c := index .root.Values .component }}
{{- $repo := $c.image.repository | default (printf "%s/%s" .root.Values.image.repositoryPrefix .component) }}
{{- $tag := $c.image.tag | default .root.Values.image.tag | default .root.Chart.AppVersion }}
{{- if $c.image.digest }}
{{- printf "%s:%s@%s" $repo $tag $c.image.digest }}
{{- else }}
{{- printf "%s:%s" $repo $tag }}
{{- end }}
{{- end }}

{{/* The dashboard's public base URL from the Ingress, or "" without one. */}}
{{- define "agentmon.publicUrl" -}}
{{- if and .Values.ingress.enabled .Values.ingress.host }}
{{- $tls := false }}
{{- range .Values.ingress.tls }}{{ if has $.Values.ingress.host .hosts }}{{ $tls = true }}{{ end }}{{ end }}
{{- printf "%s://%s" (ternary "https" "http" $tls) .Values.ingress.host }}
{{- end }}
{{- end }}

{{/* PostgreSQL URL of one service, without the password (the pods get PGPASSWORD from the Secret). */}}
{{- define "agentmon.databaseUrl" -}}
{{- $pg := .root.Values.postgresql }}
{{- $db := index $pg.databases .component }}
{{- $url := printf "postgres://%s@%s:%d/%s" (urlquery $pg.username) $pg.host (int $pg.port) $db }}
{{- if $pg.sslmode }}{{ $url = printf "%s?sslmode=%s" $url $pg.sslmode }}{{ end }}
{{- $url }}
{{- end }}

{{/* The six services (every component but the dashboard). */}}
{{- define "agentmon.serviceComponents" -}}
gateway ingest auth registry alerting notification
{{- end }}

{{/*
TLS files one component's pods mount from Secrets, as YAML {sources: [{name, secret, dir, items:
[{key, path, env}]}]}: the served certificate (tls.*), and per dependency (postgresql, redis, nats,
influxdb .tls) a CA and a client certificate. Each file becomes a mounted Secret item and an
environment variable holding its path. (dict "root" $ "component" "gateway" ["job" true]); a
migration Job serves nothing, so it mounts no served certificate.
*/}}
{{- define "agentmon.tlsSources" -}}
{{- $root := .root }}
{{- $name := .component }}
{{- $sources := list }}
{{- $isService := has $name (splitList " " (include "agentmon.serviceComponents" $root)) }}
{{- if $root.Values.tls.enabled }}
{{- if and $isService (not .job) }}
{{- $items := list (dict "key" "tls.crt" "path" "tls.crt" "env" "TLS_CERT_FILE") (dict "key" "tls.key" "path" "tls.key" "env" "TLS_KEY_FILE") }}
{{- $sources = append $sources (dict "name" "tls-server" "secret" $root.Values.tls.secretName "dir" "/etc/agentmon/tls/server" "items" $items) }}
{{- else if and (eq $name "web") $root.Values.tls.caKey }}
{{- $items := list (dict "key" $root.Values.tls.caKey "path" "ca.crt" "env" "NODE_EXTRA_CA_CERTS") }}
{{- $sources = append $sources (dict "name" "tls-server" "secret" $root.Values.tls.secretName "dir" "/etc/agentmon/tls/server" "items" $items) }}
{{- end }}
{{- end }}
{{- $deps := list
  (list "postgresql" (splitList " " (include "agentmon.postgresComponents" $root)) "DATABASE_CA_FILE" "DATABASE_CERT_FILE" "DATABASE_KEY_FILE")
  (list "redis" (list "gateway" "ingest" "alerting") "REDIS_CA_FILE" "REDIS_CERT_FILE" "REDIS_KEY_FILE")
  (list "nats" (splitList " " (include "agentmon.serviceComponents" $root)) "NATS_TLS_CA_FILE" "NATS_TLS_CERT_FILE" "NATS_TLS_KEY_FILE")
  (list "influxdb" (list "ingest") "INFLUX_CA_FILE" "INFLUX_CERT_FILE" "INFLUX_KEY_FILE") }}
{{- range $deps }}
{{- $dep := index . 0 }}
{{- $t := (index $root.Values $dep).tls }}
{{- if and $t.secretName (has $name (index . 1)) }}
{{- $items := list }}
{{- if $t.caKey }}{{ $items = append $items (dict "key" $t.caKey "path" "ca.crt" "env" (index . 2)) }}{{ end }}
{{- if $t.certKey }}{{ $items = append $items (dict "key" $t.certKey "path" "tls.crt" "env" (index . 3)) }}{{ end }}
{{- if $t.keyKey }}{{ $items = append $items (dict "key" $t.keyKey "path" "tls.key" "env" (index . 4)) }}{{ end }}
{{- $sources = append $sources (dict "name" (printf "tls-%s" $dep) "secret" $t.secretName "dir" (printf "/etc/agentmon/tls/%s" $dep) "items" $items) }}
{{- end }}
{{- end }}
{{- toYaml (dict "sources" $sources) }}
{{- end }}

{{/* HTTPS or HTTP: the scheme of one component's port. (dict "root" $ "component" "gateway") */}}
{{- define "agentmon.scheme" -}}
{{- if and .root.Values.tls.enabled (has .component (splitList " " (include "agentmon.serviceComponents" .root))) }}HTTPS{{ else }}HTTP{{ end }}
{{- end }}

{{/*
Plain (non-secret) environment of one component as a YAML map: the ConfigMap's data, and the env of
its migration Job. (dict "root" $ "component" "gateway" ["job" true])
*/}}
{{- define "agentmon.configEnv" -}}
{{- $root := .root }}
{{- $name := .component }}
{{- $c := index $root.Values $name }}
{{- $env := dict }}
{{- $_ := set $env "PORT" (toString $c.port) }}
{{- $_ := set $env "LOG_LEVEL" ($c.logLevel | default $root.Values.logLevel) }}
{{- if eq $name "web" }}
{{- $_ := set $env "GATEWAY_URL" (printf "%s://%s:%d" (include "agentmon.scheme" (dict "root" $root "component" "gateway") | lower) (include "agentmon.componentName" (dict "root" $root "component" "gateway")) (int $root.Values.gateway.port)) }}
{{- if $root.Values.ingress.enabled }}{{ $_ := set $env "GATEWAY_PUBLIC_URL" "/" }}{{ end }}
{{- else }}
{{- $_ := set $env "HTTP_HOST" "0.0.0.0" }}
{{- $_ := set $env "SHUTDOWN_TIMEOUT_MS" (toString (int $root.Values.shutdownTimeoutMs)) }}
{{- end }}
{{- if has $name (splitList " " (include "agentmon.postgresComponents" $root)) }}
{{- $_ := set $env "DATABASE_URL" (include "agentmon.databaseUrl" (dict "root" $root "component" $name)) }}
{{- end }}
{{- if eq $name "ingest" }}
{{- $_ := set $env "INFLUX_URL" $root.Values.influxdb.url }}
{{- $_ := set $env "INFLUX_DATABASE" $root.Values.influxdb.database }}
{{- if $root.Values.influxdb.username }}{{ $_ := set $env "INFLUX_USERNAME" $root.Values.influxdb.username }}{{ end }}
{{- end }}
{{- if eq $name "notification" }}
{{- $public := include "agentmon.publicUrl" $root }}
{{- if $public }}{{ $_ := set $env "DASHBOARD_URL" $public }}{{ end }}
{{- end }}
{{- range (include "agentmon.tlsSources" .| fromYaml).sources }}
{{- $dir := .dir }}
{{- range .items }}{{ $_ := set $env .env (printf "%s/%s" $dir .path) }}{{ end }}
{{- end }}
{{- range $k, $v := $c.config }}
{{- if not (eq (toString $v) "") }}{{ $_ := set $env $k (toString $v) }}{{ end }}
{{- end }}
{{- toYaml $env }}
{{- end }}

{{/*
Secret environment of one component: env entries that read the Secret. Optional keys are marked
optional, so a Secret without them leaves the variable unset (the service's default applies).
(dict "root" $ "component" "auth" ["secretName" "other-secret"])
*/}}
{{- define "agentmon.secretEnv" -}}
{{- $root := .root }}
{{- $name := .component }}
{{- $secret := .secretName | default (include "agentmon.secretName" $root) }}
{{- $refs := list }}
{{- if has $name (list "gateway" "ingest" "auth" "registry" "alerting" "notification") }}
{{- $refs = append $refs (list "NATS_URL" "nats-url" false) }}
{{- end }}
{{- if has $name (list "gateway" "ingest" "alerting") }}
{{- $refs = append $refs (list "REDIS_URL" "redis-url" false) }}
{{- end }}
{{- if has $name (splitList " " (include "agentmon.postgresComponents" $root)) }}
{{- $refs = append $refs (list "PGPASSWORD" "postgres-password" true) }}
{{- end }}
{{- if eq $name "ingest" }}
{{- $refs = append $refs (list "INFLUX_PASSWORD" "influxdb-password" true) }}
{{- end }}
{{- if eq $name "auth" }}
{{- $refs = append $refs (list "AUTH_ENCRYPTION_KEY" "auth-encryption-key" false) }}
{{- $refs = append $refs (list "AGENTMON_ADMIN_PASSWORD" "admin-password" true) }}
{{- end }}
{{- if eq $name "notification" }}
{{- $refs = append $refs (list "NOTIFICATION_ENCRYPTION_KEY" "notification-encryption-key" false) }}
{{- $refs = append $refs (list "SMTP_URL" "smtp-url" true) }}
{{- end }}
{{- range $refs }}
- name: {{ index . 0 }}
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ index . 1 }}
      {{- if index . 2 }}
      optional: true
      {{- end }}
{{- end }}
{{- end }}

{{/* Stops the render with a clear message when a required value is missing. */}}
{{- define "agentmon.validate" -}}
{{- if not .Values.postgresql.host }}
{{- fail "postgresql.host is required: the chart runs no PostgreSQL; point it at yours (see docs/deploying.md)" }}
{{- end }}
{{- if not .Values.influxdb.url }}
{{- fail "influxdb.url is required: the chart runs no InfluxDB; point it at yours, e.g. http://influxdb:8086" }}
{{- end }}
{{- if not .Values.secrets.existingSecret }}
{{- if not .Values.secrets.authEncryptionKey }}
{{- fail "secrets.authEncryptionKey is required (openssl rand -base64 32), or set secrets.existingSecret" }}
{{- end }}
{{- if not .Values.secrets.notificationEncryptionKey }}
{{- fail "secrets.notificationEncryptionKey is required (openssl rand -base64 32), or set secrets.existingSecret" }}
{{- end }}
{{- if not .Values.redis.url }}
{{- fail "redis.url is required (redis://host:6379/0), or set secrets.existingSecret with the key redis-url" }}
{{- end }}
{{- if not .Values.nats.url }}
{{- fail "nats.url is required (nats://host:4222), or set secrets.existingSecret with the key nats-url" }}
{{- end }}
{{- end }}
{{- if and .Values.migrations.enabled (contains "pre-install" .Values.migrations.hook) (not .Values.secrets.adminPassword) (not .Values.secrets.existingSecret) }}
{{- fail "migrations.hook pre-install needs secrets.adminPassword (or existingSecret): the first start would otherwise print the generated admin password in a hook Job's log, which Helm deletes" }}
{{- end }}
{{- if and .Values.ingress.enabled (not .Values.ingress.host) }}
{{- fail "ingress.host is required when ingress.enabled is true" }}
{{- end }}
{{- if and .Values.tls.enabled (not .Values.tls.secretName) }}
{{- fail "tls.secretName is required when tls.enabled is true: a kubernetes.io/tls Secret whose certificate names every component Service (see docs/deploying.md)" }}
{{- end }}
{{- range $dep := list "postgresql" "redis" "nats" "influxdb" }}
{{- $t := (index $.Values $dep).tls }}
{{- if $t.secretName }}
{{- if not (or $t.caKey $t.certKey $t.keyKey) }}
{{- fail (printf "%s.tls.secretName is set but none of %s.tls.caKey, certKey, keyKey names a key of it" $dep $dep) }}
{{- end }}
{{- if ne (empty $t.certKey) (empty $t.keyKey) }}
{{- fail (printf "%s.tls.certKey and %s.tls.keyKey go together (a client certificate and its key)" $dep $dep) }}
{{- end }}
{{- end }}
{{- end }}
{{- if and .Values.redis.tls.secretName .Values.redis.url (not (hasPrefix "rediss://" .Values.redis.url)) }}
{{- fail "redis.tls needs a rediss:// redis.url: with redis:// the services would not use TLS" }}
{{- end }}
{{- if and .Values.influxdb.tls.secretName (not (hasPrefix "https://" .Values.influxdb.url)) }}
{{- fail "influxdb.tls needs an https:// influxdb.url" }}
{{- end }}
{{- if and .Values.postgresql.tls.secretName (eq .Values.postgresql.sslmode "disable") }}
{{- fail "postgresql.tls contradicts postgresql.sslmode disable" }}
{{- end }}
{{- end }}

{{/*
Pod volumes and mounts: a writable /tmp everywhere, Next.js' cache folder for web, and the TLS files
of agentmon.tlsSources, read-only. (dict "root" $ "component" "gateway" ["job" true])
*/}}
{{- define "agentmon.volumes" -}}
{{- if not .job -}}
- name: tmp
  emptyDir: {}
{{- end }}
{{- if eq .component "web" }}
- name: next-cache
  emptyDir: {}
{{- end }}
{{- range (include "agentmon.tlsSources" . | fromYaml).sources }}
- name: {{ .name }}
  secret:
    secretName: {{ .secret }}
    # 0440: readable by the pod's group (podSecurityContext.fsGroup), not by others
    defaultMode: 288
    items:
      {{- range .items }}
      - key: {{ .key | quote }}
        path: {{ .path }}
      {{- end }}
{{- end }}
{{- end }}

{{- define "agentmon.volumeMounts" -}}
{{- if not .job -}}
- name: tmp
  mountPath: /tmp
{{- end }}
{{- if eq .component "web" }}
- name: next-cache
  mountPath: /app/web/.next/cache
{{- end }}
{{- range (include "agentmon.tlsSources" . | fromYaml).sources }}
- name: {{ .name }}
  mountPath: {{ .dir }}
  readOnly: true
{{- end }}
{{- end }}

{{/* data of the chart's Secret (base64); optional keys are left out when empty. */}}
{{- define "agentmon.secretData" -}}
auth-encryption-key: {{ .Values.secrets.authEncryptionKey | b64enc | quote }}
notification-encryption-key: {{ .Values.secrets.notificationEncryptionKey | b64enc | quote }}
redis-url: {{ .Values.redis.url | b64enc | quote }}
nats-url: {{ .Values.nats.url | b64enc | quote }}
{{- with .Values.secrets.adminPassword }}
admin-password: {{ . | b64enc | quote }}
{{- end }}
{{- with .Values.secrets.smtpUrl }}
smtp-url: {{ . | b64enc | quote }}
{{- end }}
{{- with .Values.postgresql.password }}
postgres-password: {{ . | b64enc | quote }}
{{- end }}
{{- with .Values.influxdb.password }}
influxdb-password: {{ . | b64enc | quote }}
{{- end }}
{{- end }}
