{{/*
Named templates of the panelgate chart. Every name starts with `panelgate.`.
*/}}

{{/*
The chart name, or nameOverride. Cut to 63 characters: Kubernetes names and
label values allow no more.
*/}}
{{- define "panelgate.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The chart name and version, as the helm.sh/chart label wants them.
*/}}
{{- define "panelgate.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The base name of every object: fullnameOverride, or the release name when it
already contains the chart name, or "<release>-<chart>". Cut to 63 characters.
*/}}
{{- define "panelgate.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
A name derived from the fullname with a suffix ("-migrate", "-test"), still
within 63 characters: the fullname is cut first so the suffix survives.
Call with (list . "suffix").
*/}}
{{- define "panelgate.suffixedName" -}}
{{- $root := index . 0 }}
{{- $suffix := index . 1 }}
{{- $base := include "panelgate.fullname" $root | trunc (int (sub 62 (len $suffix))) | trimSuffix "-" }}
{{- printf "%s-%s" $base $suffix }}
{{- end }}

{{/*
Labels on every object: the selector labels plus the chart, the app version
and the manager. These may change between releases; selectors never use them.
*/}}
{{- define "panelgate.labels" -}}
helm.sh/chart: {{ include "panelgate.chart" . }}
{{ include "panelgate.selectorLabels" . }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | trunc 63 | trimSuffix "-" | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: panelgate
{{- end }}

{{/*
The labels that tell this release's objects apart: name and instance only, so
they never change after install (selectors are immutable).
*/}}
{{- define "panelgate.selectorLabels" -}}
app.kubernetes.io/name: {{ include "panelgate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
The selector of the gateway pods: the selector labels plus the component.
The migration Job's and the helm test's pods carry the selector labels too,
with another component, so the Service, PodDisruptionBudget, NetworkPolicy
and Deployment must select on this, never on the selector labels alone (a
running migration pod would otherwise receive gRPC traffic).
*/}}
{{- define "panelgate.gatewaySelectorLabels" -}}
{{ include "panelgate.selectorLabels" . }}
app.kubernetes.io/component: gateway
{{- end }}

{{/*
The ServiceAccount of the gateway pods: the created one (fullname unless
serviceAccount.name), or serviceAccount.name / "default" when none is created.
*/}}
{{- define "panelgate.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "panelgate.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
The Secret holding DATABASE_URL, the master key and the caller JWT secret:
secrets.existingSecret when set, else the one this chart creates.
*/}}
{{- define "panelgate.secretName" -}}
{{- if .Values.secrets.existingSecret }}
{{- .Values.secrets.existingSecret }}
{{- else }}
{{- include "panelgate.fullname" . }}
{{- end }}
{{- end }}

{{/*
The short-lived Secret the migration hook reads DATABASE_URL from when the
chart creates the secrets (see migration-job.yaml for why).
*/}}
{{- define "panelgate.migrationSecretName" -}}
{{- include "panelgate.suffixedName" (list . "migration") }}
{{- end }}

{{/*
The container image: repository, then "@digest" when image.digest is set,
else ":tag" (image.tag, or the chart's appVersion).
*/}}
{{- define "panelgate.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
{{- end }}

{{/*
The port number of a "host:port" listen address (config.listen,
config.metricsListen). Native gRPC probes take a number, never a port name.
*/}}
{{- define "panelgate.portOf" -}}
{{- splitList ":" . | last | int }}
{{- end }}

{{/*
Refuses values that would deploy something broken, with a message saying
what to change. values.schema.json catches most mistakes first; these are the
ones across keys it cannot express, and the fallback when a user skips schema
validation.
*/}}
{{- define "panelgate.validate" -}}
{{- $secrets := .Values.secrets }}
{{- if $secrets.existingSecret }}
{{- if or $secrets.databaseUrl $secrets.masterKey $secrets.callerJwtSecret }}
{{- fail "secrets.existingSecret is set: put DATABASE_URL, the master key and the caller JWT secret in that Secret and leave secrets.databaseUrl, secrets.masterKey and secrets.callerJwtSecret empty" }}
{{- end }}
{{- else if not $secrets.create }}
{{- fail "secrets.create is false: name the Secret to use in secrets.existingSecret" }}
{{- else if not $secrets.databaseUrl }}
{{- fail "secrets.databaseUrl is required (postgres://user:password@host:5432/db), or set secrets.existingSecret" }}
{{- end }}
{{- if .Values.pdb.enabled }}
{{- $min := .Values.pdb.minAvailable }}
{{- $replicas := ternary .Values.autoscaling.minReplicas .Values.replicaCount .Values.autoscaling.enabled }}
{{- if and (not (kindIs "string" $min)) (ge (int $min) (int $replicas)) }}
{{- fail (printf "pdb.minAvailable %d with %d replica(s) would block every node drain: run more replicas or set pdb.enabled=false" (int $min) (int $replicas)) }}
{{- end }}
{{- end }}
{{- end }}
