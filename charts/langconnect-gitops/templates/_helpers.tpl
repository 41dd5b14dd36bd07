{{/* The controller's objects keep the names manifests/ gives them: its config, RBAC and admission policy name them. */}}
{{- define "langconnect-gitops.name" -}}langconnect-gitops{{- end }}

{{- define "langconnect-gitops.labels" -}}
app.kubernetes.io/name: langconnect-gitops
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}

{{/* As manifests/ selects: an install made with kubectl can be taken over by the chart. */}}
{{- define "langconnect-gitops.selector" -}}
app.kubernetes.io/name: langconnect-gitops
app.kubernetes.io/component: controller
{{- end }}

{{/* controller.yaml: the values' config, with the state namespace the release's and the clusters merged in. */}}
{{- define "langconnect-gitops.config" -}}
{{- $config := deepCopy .Values.config -}}
{{- $kubernetes := default dict $config.kubernetes -}}
{{- $_ := set $kubernetes "stateNamespace" .Release.Namespace -}}
{{- $_ := set $config "kubernetes" $kubernetes -}}
{{- if .Values.clusters -}}
{{- $_ := set $config "clusters" (merge (deepCopy .Values.clusters) (default dict $config.clusters)) -}}
{{- end -}}
{{- toYaml $config -}}
{{- end }}

{{- define "langconnect-gitops.serviceAccount" -}}
{{ printf "system:serviceaccount:%s:langconnect-gitops" .Release.Namespace }}
{{- end }}
