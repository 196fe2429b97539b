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
K_VALUE = "k-value"  # the chosen k, beside the slider
MODEL_SETTINGS = "model-settings"  # algorithm, scaling, PCA and seed, folded away
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
MIGRATION_CARD = "migration-card"  # shown once there is a previous k to compare with
CLEAR_SELECTION = "clear-selection"
PREVIOUS_K = "previous-k"
SELECTION = "selection"
STABILITY = "stability"
K_NOTE = "k-note"
FIT_REQUEST = "fit-request"  # dcc.Store: settings too slow to fit at once, for the background job
FIT_DONE = "fit-done"  # dcc.Store: settings the background job has fitted into the store
FIT_SUPERSEDED = "fit-superseded"  # dcc.Store: changes when newer settings stop the job
FIT_BUSY = "fit-busy"
FIT_MESSAGE = "fit-message"
FIT_CANCEL = "fit-cancel"
FIT_STATUS = "fit-status"

# choose k
SWEEP_RANGE = "sweep-range"
SWEEP_RUN = "sweep-run"
SWEEP_CANCEL = "sweep-cancel"
SWEEP_PROGRESS = "sweep-progress"
SWEEP_FIGURE = "sweep-figure"
SWEEP_SUMMARY = "sweep-summary"
SWEEP_STATUS = "sweep-status"
SWEEP_JOB = "sweep-job"  # dcc.Store (session): id of this tab's sweep job in the shared store
SWEEP_START = "sweep-start"  # dcc.Store: id of a job handed to the background run
SWEEP_DONE = "sweep-done"  # dcc.Store: id of a job seen finishing, which redraws the result
SWEEP_POLL = "sweep-poll"
USE_K = "use-k"
USE_ALTERNATIVE_K = "use-alternative-k"

# data
UPLOAD = "upload"
UPLOAD_STATUS = "upload-status"
DATA_SUMMARY = "data-summary"
BACK_TO_DEMO = "back-to-demo"

# score
SCORE_MODEL = "score-model"  # dcc.Store: an uploaded model file's JSON text, or None
SCORE_MODEL_INFO = "score-model-info"
SCORE_MODEL_SAVE = "score-model-save"
SCORE_MODEL_DOWNLOAD = "score-model-download"
SCORE_MODEL_UPLOAD = "score-model-upload"
SCORE_MODEL_STATUS = "score-model-status"
SCORE_MODEL_RESET = "score-model-reset"
SCORE_FIELD = "score-field"  # pattern-matching: {"type": SCORE_FIELD, "column": name}
SCORE_FEEDBACK = "score-feedback"  # pattern-matching, as SCORE_FIELD
SCORE_MEDIAN = "score-median"
SCORE_FIND = "score-find"
SCORE_RESULT = "score-result"
SCORE_BATCH_UPLOAD = "score-batch-upload"
SCORE_BATCH_STATUS = "score-batch-status"
SCORE_BATCH = "score-batch"  # dcc.Store: {"data": id} of the uploaded file in the Store
SCORE_BATCH_SUMMARY = "score-batch-summary"
SCORE_BATCH_SAVE = "score-batch-save"
SCORE_BATCH_DOWNLOAD = "scored"  # the name of the scored file's download link

# campaigns
CAMPAIGN_TABS = "campaign-tabs"
PORTFOLIO = "portfolio"
PORTFOLIO_PANEL = "portfolio-panel"
PLAN_PANEL = "plan-panel"
PLAN_FORM = "plan-form"
PLAN_PICK = "plan-pick"
PLAN_FIELD = "plan-field"  # pattern-matching: {"type": PLAN_FIELD, "field": name}
PLAN_PROJECTION = "plan-projection"
PLAN_SAVE = "plan-save"
PLAN_STATUS = "plan-status"
PLAN_DOWNLOAD_BUTTON = "plan-download-button"
PLAN_DOWNLOAD = "plan-download"
PLAN_UPLOAD = "plan-upload"
PORTFOLIO_BUDGET = "portfolio-budget"
PORTFOLIO_VIEW = "portfolio-view"
EXPORT_SCOPE = "export-scope"
EXPORT_SEGMENTS = "export-segments"
EXPORT_FORMAT = "export-format"
EXPORT_ATTRIBUTES = "export-attributes"
EXPORT_BUTTON = "export-button"
EXPORT_DOWNLOAD = "export"  # the name of the member list's download link
DOWNLOAD_LINK = "download-link"  # dcc.Store of a large file's link (dashapp/downloads.py)
EXPORT_STATUS = "export-status"
REPORT_BUTTON = "report-button"
REPORT_DOWNLOAD = "report-download"

# members table (Segments page; dashapp/members_table.py)
MEMBERS_GRID = "members-grid"
MEMBERS_TOGGLE = "members-toggle"  # shows / hides the list (closed: no rows are fetched)
MEMBERS_OPEN = "members-open"  # dbc.Collapse around the list
MEMBERS_CAPTION = "members-caption"
MEMBERS_FORMAT = "members-format"
MEMBERS_EXPORT = "members-export"
MEMBERS_DOWNLOAD = "members"  # the name of the table's download link
MEMBERS_STATUS = "members-status"
