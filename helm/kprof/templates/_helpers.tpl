{{/* Labels every kprof object carries. */}}
{{- define "kprof.labels" -}}
app.kubernetes.io/part-of: kprof
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end }}

{{/* The operator's pods. The webhook's objectSelector skips this name: kprof never injects itself. */}}
{{- define "kprof.operatorSelector" -}}
app.kubernetes.io/name: kprof-operator
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "kprof.image" -}}
{{ .image.repository }}:{{ .image.tag | default .appVersion }}
{{- end }}

{{/* The agent config API as the injected agents reach it. */}}
{{- define "kprof.agentApiUrl" -}}
{{ ternary "https" "http" (ne .Values.agentApi.tlsSecretName "") }}://kprof-operator.{{ .Release.Namespace }}.svc:{{ .Values.agentApi.port }}
{{- end }}

{{- define "kprof.alertTokenSecret" -}}
{{ .Values.alerts.existingSecret | default "kprof-alert-token" }}
{{- end }}
