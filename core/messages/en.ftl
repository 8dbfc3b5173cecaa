# Fieldwork's English messages. Every id here is also in zh-CN.ftl
# (a unit test checks both files hold the same ids).

## Counts

orders-count = { $count ->
    [one] 1 order
   *[other] { $count } orders
}

## The service report (what the customer signs). Changing a line here
## changes the text of reports signed from then on, never of those signed.

report-title = SERVICE REPORT { $id }
report-customer = Customer: { $value }
report-phone = Phone: { $value }
report-site = Site: { $value }
report-product = Product: { $model } serial { $serial }
report-purchased = Purchased: { $value }
report-fault = Fault reported: { $value }
report-diagnosis = Diagnosis: [{ $code }] { $findings }
report-extra-fault = Extra fault: { $value }
report-work-done = Work done: { $value }
report-rework-of = Rework of: { $value } (free of charge)
report-warranty = Warranty: { $state } ({ $reason })
report-in-warranty = in warranty
report-out-of-warranty = out of warranty
report-warranty-undecided = Warranty: not decided
report-parts = Parts and fees:
report-borne = {" "}(borne by the company)
report-total = Total: { $value }
report-payable = Payable by customer: { $value }
report-qc = QC: { $result } by { $inspector }
report-qc-passed = passed
report-qc-failed = failed
report-qc-not-done = QC: not done
report-received = Received: { $value }
report-arrived = Arrived: { $value }
report-repaired = Repaired: { $value }
report-language = Language of this report: { $tag }

## The board's frame, sign-in and countdowns

brand = Fieldwork
nav-board = Board
nav-new-order = New order
nav-follow-ups = Follow-ups
nav-complaints = Complaints
nav-mail-in = Mail-in
nav-statistics = Statistics
nav-settings = Settings
who-supervisor = supervisor
time-zone = time zone
language = Language
language-auto = Browser language
language-change = Change language
language-unknown = Unknown language
language-unknown-text = Choose Simplified Chinese or English.
sign-out = Sign out
span-hm = { $h } h { $m } min
span-m = { $m } min
time-left = { $span } left
time-overdue = overdue { $span }
form-expired = This form has expired
form-expired-text = Reload the page and try again.
server-error = Something went wrong
server-error-text = The server could not do that. Try again.
back-to-board = Back to the board
sign-in = Sign in
sign-in-title = Fieldwork board
sign-in-who = For dispatchers and supervisors. Engineers use the app on their phone.
sign-in-tenant = Service center
sign-in-user = User
sign-in-password = Password
sign-in-refused = Unknown service center, user or password.

## The board, an order, assignment

board-none = No orders match.
urgent = URGENT
unassigned = unassigned
engineer = Engineer
reassign = Reassign
assign = Assign
due-at = due { $when }
updated-at = updated { $when }
board-title = Open orders
filter-status = Status
filter-open-any = open (any)
filter-anyone = anyone
filter-sla = SLA
filter-all = all
filter-breached = breached
filter-soon = about to breach
filter = Filter
col-customer = Customer
col-status = Status
col-engineer = Engineer
col-sla = SLA clock
not-found = Not found
no-such-order = No such order
conflict-overtaken = { $by } moved the order to { $to } on device { $device } while another device had already moved it on
conflict-signed-report-changed = the signed report was changed after the customer signed
conflict-stock-oversold = { $sku } was used on several phones at once: the van shows { $on_hand }
conflict-qc-after-pass = QC record { $record } was added after the inspection had passed
signature-valid = signature valid
signature-invalidated = signature invalidated by a later change
signature-refused = customer refused to sign
signature-unsigned = not signed yet
order-taken = Order { $id } · taken { $when } by { $by } · { $channel }
customer-and-unit = Customer and unit
member = member
serial = serial { $serial }
bought = bought { $date }
proof = proof { $proof }
fault = Fault:
assignment = Assignment
sla-clocks = SLA clocks
exception = exception: { $reason }
refused-title = Refused from phones
refused-text = Work a phone sent that the server did not take. The phone keeps it in its quarantine, where the engineer and support can see it.
col-when = When
col-device = Device
col-why = Why
conflicts-title = Conflicts to look at
timeline = Timeline
col-step = Step
col-who = Who
col-note = Note
at-location = at { $where }
diagnosis-and-work = Diagnosis and work
in-warranty = In warranty
out-of-warranty = Out of warranty
extra-fault = Extra fault: { $what }
parts = Parts
doa = DOA
quality-fault = quality fault
fees = Fees
borne-company = company
borne-customer = customer
customer-pays = Customer pays
consents = Consents
consent-accepted = accepted
consent-refused = refused
by-signer = by
consent-signature = consent signature
qc = QC
qc-passed = passed
qc-failed = failed
satisfaction = Satisfaction
follow-up-calls = Follow-up calls
call-reached = reached
call-not-reached = not reached
complaints = Complaints
service-report = Service report
report-pdf-link = The report as the customer keeps it (PDF)
attested-by = Attested by device { $device } ({ $backing ->
    [hardware] hardware key
   *[software] software key
})
not-attested = Not attested by a device key
pdf-attestation = Device
signed-by = Signed by { $name } at { $when }
customer-signature = customer signature
refused-to-sign = { $name } refused to sign: { $reason }
not-assigned = Not assigned
back = Back

## Why a field was refused (reason-<code>)

reason-required = is required
reason-too-long = longer than { $n } characters
reason-control-characters = contains control characters
reason-at-least-one = must be at least 1
reason-at-most = must be at most { $n }
reason-negative = must not be negative
reason-at-most-minor = must be at most { $n } minor units
reason-not-a-date = must be a date written YYYY-MM-DD
reason-unsigned = is empty: the customer has not signed
reason-too-many-strokes = has more than { $n } strokes
reason-too-many-points = has more than { $n } points
reason-not-finite = has a point that is not a finite number
reason-times-backwards = has point times that go backwards
reason-too-many-lines = has more than { $n } entries
reason-not-an-email = is not an email address
reason-in-the-future = is in the future
reason-promised-before-intake = must be after the intake time
reason-score-range = must be between 1 and 5
reason-not-a-time = must be a date and time, like 2026-12-01 09:30
reason-skipped-time = does not exist in the service center's time zone (the clocks jump over it)
reason-language = must be zh-CN or en
reason-travel-allowance = minutes of travel allowance, 0 to 1440
reason-whole-number = must be a whole number
reason-checklist-empty = the checklist is empty
reason-not-between-intake-and-now = must be between intake and now
reason-pick-resolution = pick one of the proposed resolutions
reason-propose-resolution = propose at least one
reason-team-required = a major complaint needs a handling team
reason-physical-count = must be a count from 0
reason-policy-positive = policy { $name } must be positive
reason-policy-exception-shorter = policy repair_exception_limit_min is shorter than repair_limit_min
reason-policy-currency = policy currency must be a three-letter ISO 4217 code
reason-policy-time-zone = policy time_zone is not an IANA time zone (e.g. Asia/Shanghai)
reason-policy-calling-hours = policy calling_hours must look like 09:00-12:00,14:00-20:00
reason-policy-window-inverted = policy calling_hours: window { $name } ends before it starts
reason-policy-windows-overlap = policy calling_hours: windows must be in order and not overlap

## The intake form and the documents' enums

choose-channel = choose a channel
choose-category = choose a category
choose-priority = choose normal or urgent
intake-title = New order
intake-not-saved = The order was not saved: please correct the fields marked below.
intake-request = Request
intake-channel = Channel
intake-category = Category
intake-priority = Priority
intake-promised = Resolution promised by (local time)
intake-site = Site
intake-travel = Travel allowance (minutes, outside the urban area)
intake-customer = Customer
intake-name = Name
intake-phone = Phone
intake-email = Email
intake-address = Site address
intake-member = Member
intake-product = Product
intake-model = Model
intake-serial = Serial number
intake-purchase-date = Purchase date
intake-proof = Proof of purchase (invoice number)
intake-fault = Fault
intake-symptoms = Symptoms, as the customer describes them
intake-frequency = How often
intake-since = Since when
intake-environment = Environment
intake-tried = Already tried
intake-submit = Take the order
enum-phone = phone
enum-email = email
enum-online-chat = online chat
enum-walk-in = walk-in
enum-mail-in = mail-in
enum-product-quality = product quality
enum-usage-operation = usage / operation
enum-installation-commissioning = installation / commissioning
enum-other = other
enum-normal = normal
enum-urgent = urgent
enum-urban = urban
enum-outside-urban = outside the urban area

## Follow-up calls and mail-in repairs

follow-ups-title = Follow-up calls
follow-ups-rule = Every serviced customer is called within { $days } days; members always. Calls are recorded whether or not the customer was reached. Unsatisfied answers open a complaint candidate.
calling-hours = Customers may be called { $hours } (local time).
calling-now = Now is within calling hours.
calling-rest = Now is rest hours: the next calls from { $when }.
no-calls-due = No calls due.
col-call-by = Call by
col-call-now = Call now?
col-on-site = On site
col-record-call = Record the call
call-now-yes = yes
call-wait-until = wait until { $when }
reached = Reached
answer = Answer
aspect = Aspect (neutral or unsatisfied)
comment = Comment or suggestion
record-call = Record call
choose-rating = choose satisfied, neutral or unsatisfied
enum-satisfied = satisfied
enum-neutral = neutral
enum-unsatisfied = unsatisfied
milestone-shipped = shipped to the repair center
milestone-receipt-confirmed = receipt and fault confirmed
milestone-customer-updated = customer updated
milestone-second-contact = second contact
milestone-returned = unit back
milestone-ship-to-repair-center = ship to repair center
milestone-confirm-receipt-and-fault = confirm receipt and fault
milestone-progress-update-to-customer = progress update to customer
milestone-unit-back-else-escalate-to-supervisor = unit back (else escalate to supervisor)
mail-in-title = Mail-in repairs
mail-in-rule = Ship within { $ship } h, confirm receipt within { $confirm } days, update the customer within { $update }, second contact at { $second }, escalate at { $escalate } days.
mail-in-none = No mail-in repairs under way.
col-milestones = Milestones
col-record = Record
received-at = received { $when }
done-at = done { $when }
late = late
milestone = milestone
done-now = Done now
choose-milestone = choose a milestone

## Facade errors (error-<code>), statuses, clocks, roles

error-invalid = invalid { $field }: { $reason }
error-not-found = { $kind } { $id } not found
error-unknown-sku = unknown part { $sku }: it is not in the catalog
error-insufficient-stock = not enough { $sku } in the van: { $on_hand } on hand, { $wanted } wanted
error-illegal-transition = illegal transition from { $from } to { $to }
error-cannot-cancel = cannot cancel: the customer signed acceptance of paid service and parts were applied or ordered
error-consent-required = { $kind } consent from the customer is required first: { $why }
error-wrong-status = not allowed while the order is { $status }: { $why }
error-qc-locked = the QC record is locked: the inspection passed
error-precondition = precondition not met: { $why }
error-role-required = only a { $role } { $what }
error-malformed-document = malformed document bytes for { $doc_id }: { $reason }
error-locked = { $reason_code ->
    [wrong_key] the store is locked: the key does not open it
    [not_encrypted] the store is not encrypted yet: encrypt it first
   *[key_needed] the store is locked: it is encrypted and no key was given
}
error-signer = the device key could not sign: { $reason }
error-attestation = attestation refused: { $reason }
error-storage = storage: { $reason }
error-report-font = the report font could not be used: { $reason }
error-report-pdf = the PDF report could not be written: { $reason }
role-supervisor = supervisor
role-dispatcher = dispatcher
status-received = received
status-dispatched = dispatched
status-accepted = accepted
status-en-route = en route
status-on-site = on site
status-in-progress = in progress
status-awaiting-parts = awaiting parts
status-repaired = repaired
status-qc-passed = qc passed
status-qc-failed = qc failed
status-signed-off = signed off
status-followed-up = followed up
status-closed = closed
status-cancelled = cancelled
status-resolved-remotely = resolved remotely
clock-dispatch = dispatch
clock-arrival = arrival
clock-repair = repair
clock-paperwork = paperwork
clock-follow-up = follow-up

error-no-such-engineer = no such engineer in this service center

## Complaints

enum-repair-quality = repair quality
enum-service-attitude = service attitude
enum-timeliness = timeliness
enum-fees = fees
enum-candidate = candidate
enum-registered = registered
enum-investigating = investigating
enum-resolution-proposed = resolution proposed
enum-customer-accepted = customer accepted
enum-closed = closed
complaint-category = Category
complaints-title = Complaints
complaints-summary = { $open } open · { $closed } closed. Major complaints first.
major = MAJOR
registered-by = registered { $when } by { $by } · { $category }
responsible = Responsible: { $who }
team = team: { $team }
findings = Findings: { $what }
proposed = Proposed:
chosen = chosen
accepted-by = Accepted by { $who }
step-register = Register the complaint
it-stands = It stands
it-does-not-stand = It does not stand
explanation = Explanation given to the customer (if it does not stand)
step-judge = Record the judgement
responsible-party = Responsible party
responsible-placeholder = the engineer, service staff or supervisor
handling-team = Handling team (major complaints; comma-separated)
step-responsible = Name the responsible party
findings-label = Findings
step-investigate = Record the findings
resolutions-label = Proposed resolutions, one per line
step-propose = Propose resolutions
step-pick = Pick this resolution
waiting-for-supervisor = Waiting for a supervisor to pick a resolution.
accepting-customer = Customer who signed acceptance
step-accept = Customer accepted
feedback-label = Customer's feedback
step-feedback = Record feedback
step-close = Close and classify
unknown-step = unknown step
complaint-not-registered = Complaint not registered
back-to-order = Back to the order
complaint-what = What the customer complains about
complaint-major = Major (needs a handling team)
register-complaint = Register a complaint

## Statistics and the CSV

stats-title = Statistics
stats-supervisor-only = Statistics are for the service-center supervisor.
stats-per-month-title = Statistics per month
stats-per-week-title = Statistics per week
stats-per-month = per month
stats-per-week = per week
stats-csv = download CSV
stats-none = No orders yet.
chart-requests = Requests
chart-dispatch-within = Dispatch within { $span }
chart-repair-within = Repair within { $span }
chart-arrival = Arrival on time
chart-first-time-fix = First-time fix
chart-satisfied = Satisfied on site
span-hours = { $n } h
span-minutes = { $n } min
col-figure = Figure
csv-header = period,figure,label,value
metric-requests = Requests
metric-requests-channel = Requests by channel: { $value }
metric-requests-category = Requests by category: { $value }
metric-sla-compliance = SLA compliance, { $clock } (%)
metric-repair-time-avg-h = Average repair time (h)
metric-repair-time-p90-h = Repair time, 90th percentile (h)
metric-first-time-fix-pct = First-time fix (%)
metric-rework-pct = Rework (%)
metric-repair-success-pct = Repair success (%)
metric-satisfaction-on-site-pct = Satisfied on site (%)
metric-satisfaction-follow-up-pct = Satisfied on follow-up calls (%)
metric-complaints-category = Complaints: { $value }
metric-parts-used = Parts used: { $value }
metric-parts-doa-pct = Dead on arrival (%): { $value }
metric-arrival-on-time-pct = On-time arrival (%): { $value }

## Service center settings

settings-title = Service center settings
settings-not-saved = The settings were not saved:
settings-supervisor-only = Only a supervisor changes the settings.
settings-place = Place and language
settings-time-zone = Time zone (IANA, e.g. Asia/Shanghai)
settings-center-name = Service center name (heads the customer’s report)
settings-language = Default language
settings-currency = Currency (ISO 4217)
settings-calling-hours = Calling hours (local, e.g. 09:00-12:00,14:00-20:00)
settings-policy = Policy
settings-save = Save a new version
settings-versions = Versions
settings-versions-rule = An order is served under the version in force when it was received.
col-version = Version
col-in-force-from = In force from
col-by = By
col-time-zone = Time zone
col-language = Language
limit-dispatch-limit-min = Intake to dispatch (minutes)
limit-arrival-limit-min = Dispatch to on site, urban (minutes)
limit-repair-limit-min = Dispatch to repaired (minutes)
limit-repair-exception-limit-min = Dispatch to repaired with an exception (minutes)
limit-paperwork-limit-min = Repaired to signed report (minutes, or the same day)
limit-follow-up-limit-days = Follow-up call after service (days)
limit-about-to-breach-min = Warn before a clock breaches (minutes)
limit-software-rework-hours = Same software fault again is rework within (hours)
limit-hardware-rework-days = Same hardware fault again is rework within (days)
limit-warranty-days = Warranty from the purchase date (days)
limit-rma-ship-hours = Mail-in: ship to the repair center (hours, or the same day)
limit-rma-confirm-days = Mail-in: confirm receipt and fault (days)
limit-rma-update-days = Mail-in: update the customer (days)
limit-rma-second-contact-days = Mail-in: second contact (days)
limit-rma-escalate-days = Mail-in: escalate when not back (days)
limit-photo-max-mb = Largest photo or document (MB)
limit-photos-per-order = Photos and documents per order
field-must-be-whole = { $field }: must be a whole number

## Texts the core stores in documents, said in the language

stored-no-purchase-date = no purchase date: paid repair
stored-proof-not-checked = proof of purchase not checked: paid repair
stored-misuse = fault caused by misuse: paid repair
stored-warranty-ended = warranty ended { $x }: paid repair
stored-in-warranty-until = in warranty until { $x }: free repair
stored-waiting-for = waiting for { $x }
stored-refused-to-sign = customer refused to sign

## More of the documents' enums

enum-running = running
enum-about-to-breach = about to breach
enum-breached = breached
enum-met = met
enum-met-late = met late
enum-stopped = stopped
enum-applied = applied
enum-ordered = ordered
enum-software = software
enum-hardware = hardware
enum-labour = labour
enum-logistics = logistics
enum-paid-service = paid service
enum-extra-parts = extra parts
enum-extra-work = extra work
enum-fee-list = fee list

stored-unsatisfied-at-completion = unsatisfied at completion

reason-not-a-change-hash = is not a change hash
reason-not-a-document-id = is not a document id
reason-not-an-id = is not usable in a document id
reason-unreached-has-no-rating = a call that did not reach the customer has no rating
reason-aspect-required = ask which aspect a neutral or unsatisfied customer means
reason-location-range = latitude, longitude or accuracy out of range
reason-phone-or-email = a phone number or an email is required
reason-travel-minutes = must be between 0 and 1440 minutes

## Why a rule refused (a rule error's why, what and kind)

why-finished-cannot-be-assigned = a finished order cannot be assigned
why-assign-before-dispatch = assign an engineer before dispatching
why-capture-signature-first = capture the customer's signature or refusal first
why-collect-feedback-first = collect the customer's feedback first
why-warranty-before-work = decide warranty before starting work
why-diagnose-before-work = diagnose before starting work
why-diagnose-before-parts = diagnose before using parts
why-diagnose-on-site = diagnose on site (or on the bench for mail-in units)
why-responsible-and-findings-first = name the responsible party and record the findings first
why-not-from-device = not allowed from a device: { $x }
why-mail-in-skips-visit = only mail-in units skip the visit; record en route and arrival first
why-parts-while-in-progress = parts are used or ordered while the repair is in progress
why-qc-first = record the QC checklist first
why-follow-up-first = record the follow-up call first
why-already-rated = the customer has already rated this visit
why-order-finished = the order is finished
why-not-mail-in = the order is not a mail-in repair
why-sign-again = the signature no longer matches the report; sign again
why-status-matches-qc = the status must match the latest QC result
why-supervisor-picks-first = the supervisor picks a resolution first
why-paid-repair-estimate = the repair is paid; the customer signs acceptance of the estimate before work starts
why-not-in-diagnosis = { $x } was not in the diagnosis
what-picks-resolution = picks the resolution
what-changes-settings = changes the service center's settings
consent-paid-service = paid service
consent-extra-parts = extra parts
consent-extra-work = extra work
consent-fee-list = fee list

why-extra-fault-found = an extra fault was found during repair

# Photos and documents on an order
report-photos = Photos and documents:
report-photo = {"  "}{ $kind }: { $hash }{ $caption }
photo-kind-fault = fault
photo-kind-serial-plate = serial plate
photo-kind-proof-of-purchase = proof of purchase
photo-kind-part = part
photo-kind-completed-work = completed work
photo-kind-other = other
reason-file-too-large = is larger than the limit of { $n } MB
reason-not-a-photo = is not a JPEG, PNG, HEIC, WebP or PDF file
reason-too-many-photos = the order already holds { $n } photos and documents
reason-file-empty = is empty
reason-file-unreadable = cannot be read
why-photos-on-open-orders = photos are attached to open orders
photos-title = Photos and documents
photos-none = No photos yet.
photo-removed = Removed
photo-waiting = Waiting for the phone to send it
photo-open = Open ({ $kind })

# The PDF service report (core/src/report).
pdf-title = Service report
pdf-order = Order { $id }
pdf-page = Page { $page } of { $pages }
pdf-footer = Report SHA-256 { $hash } · language { $tag }
pdf-banner-unsigned = NOT SIGNED: the customer has not signed this report.
pdf-banner-invalid = SIGNATURE INVALID: this report changed after the customer signed it.
pdf-banner-refused = NOT SIGNED: the customer refused to sign ({ $reason }).
pdf-customer = Customer
pdf-name = Name
pdf-phone = Phone
pdf-site = Site
pdf-product = Product
pdf-model = Model
pdf-serial = Serial number
pdf-purchased = Purchased
pdf-warranty = Warranty
pdf-warranty-undecided = not decided
pdf-rework-of = Rework of (free of charge)
pdf-fault = Fault
pdf-reported = Reported
pdf-diagnosis = Diagnosis
pdf-extra-fault = Found during repair
pdf-work = Work done
pdf-parts = Parts and fees
pdf-parts-continued = Parts and fees (continued)
pdf-col-item = Item
pdf-col-qty = Qty
pdf-col-unit = Unit price
pdf-col-amount = Amount
pdf-total = Total
pdf-payable = Payable by customer
pdf-consents = Customer consents
pdf-consent-by = { $name }, { $at }
pdf-qc = Quality check
pdf-qc-result = Result
pdf-qc-inspector = Inspector
pdf-qc-not-done = Not done.
pdf-times = Times
pdf-received = Received
pdf-arrived = Arrived on site
pdf-repaired = Repaired
pdf-zone = Times are local to { $zone } (UTC{ $offset }).
pdf-photos = Photos and documents
pdf-photo-not-here = Not on this device.
pdf-photo-not-shown = A { $type } file: not shown here.
pdf-photo-unreadable = The file does not open as a picture.
pdf-signoff = Customer sign-off
pdf-signed-by = Signed by
pdf-signed-at = At
pdf-signed-over = Signed over SHA-256
pdf-refused-by = Refused by
pdf-refused-why = Reason
pdf-not-signed = Not signed.
pdf-hash = This report's SHA-256
pdf-hash-help = The QR code holds the same hash. The service center compares it with the report kept for the order, so a paper copy can be checked.
