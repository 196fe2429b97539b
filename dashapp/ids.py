"""Component ids, defined once."""

# app shell
URL = "url"
STATE = "view-state"
QUERY = "view-query"
NOTICE = "notice"
NONCE = "page-nonce"
FOOTER = "footer"
NAV_LINK = "nav-link"  # pattern-matching: {"type": NAV_LINK, "page": path}

# overview
OVERVIEW_FILTER = "overview-filter"
KPI_ROW = "kpi-row"
OVERVIEW_CHART = "overview-chart"  # + "-<index>"
QUALITY_REPORT = "quality-report"

# segments
K_SLIDER = "k-slider"
FEATURE_PRESET = "feature-preset"
FEATURE_COLUMNS = "feature-columns"
FEATURE_HELP = "feature-help"
ALGORITHM = "algorithm"
SCALING = "scaling"
PCA_SWITCH = "pca-switch"
SEED = "seed"
CONFIG_ERROR = "config-error"
SEGMENT_FILTER = "segment-filter"
SEGMENT_MAP = "segment-map"
MAP_NOTE = "map-note"
MAP_KEY = "map-key"
HOVER_CARD = "hover-card"
DISTRIBUTION_FEATURE = "distribution-feature"
DISTRIBUTION = "distribution"
HEATMAP = "heatmap"
SEGMENT_CARDS = "segment-cards"
SEGMENT_CARD = "segment-card"  # pattern-matching: {"type": SEGMENT_CARD, "segment": n}
SEGMENT_KPIS = "segment-kpis"
MIGRATION = "migration"
PREVIOUS_K = "previous-k"
SELECTION = "selection"
STABILITY = "stability"

# choose k
SWEEP_RANGE = "sweep-range"
SWEEP_RUN = "sweep-run"
SWEEP_CANCEL = "sweep-cancel"
SWEEP_PROGRESS = "sweep-progress"
SWEEP_FIGURE = "sweep-figure"
SWEEP_SUMMARY = "sweep-summary"
USE_K = "use-k"

# data
UPLOAD = "upload"
UPLOAD_STATUS = "upload-status"
DATA_SUMMARY = "data-summary"
BACK_TO_DEMO = "back-to-demo"
