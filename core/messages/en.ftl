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
