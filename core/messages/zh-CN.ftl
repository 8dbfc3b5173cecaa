# Fieldwork 的简体中文消息。这里的每个 id 也在 en.ftl 中。

## 计数

orders-count = { $count } 个工单

## 服务报告（客户签署的内容）。修改此处只影响之后签署的报告。

report-title = 服务报告 { $id }
report-customer = 客户：{ $value }
report-phone = 电话：{ $value }
report-site = 服务地址：{ $value }
report-product = 产品：{ $model }，序列号 { $serial }
report-purchased = 购买日期：{ $value }
report-fault = 报修故障：{ $value }
report-diagnosis = 诊断：[{ $code }] { $findings }
report-extra-fault = 新发现故障：{ $value }
report-work-done = 维修内容：{ $value }
report-rework-of = 返修（原工单 { $value }，免费）
report-warranty = 保修：{ $state }（{ $reason }）
report-in-warranty = 在保
report-out-of-warranty = 过保
report-warranty-undecided = 保修：未判定
report-parts = 配件与费用：
report-borne = （由公司承担）
report-total = 合计：{ $value }
report-payable = 客户应付：{ $value }
report-qc = 质检：{ $result }，检验人 { $inspector }
report-qc-passed = 合格
report-qc-failed = 不合格
report-qc-not-done = 质检：未进行
report-received = 受理时间：{ $value }
report-arrived = 到达时间：{ $value }
report-repaired = 修复时间：{ $value }
report-language = 本报告语言：{ $tag }
