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

## frame

brand = Fieldwork
nav-board = 看板
nav-new-order = 新建工单
nav-follow-ups = 回访
nav-complaints = 投诉
nav-mail-in = 寄修
nav-statistics = 统计
nav-settings = 设置
who-supervisor = 主管
time-zone = 时区
language = 语言
language-auto = 跟随浏览器
language-change = 切换语言
language-unknown = 不支持的语言
language-unknown-text = 请选择简体中文或英文。
sign-out = 退出
span-hm = { $h } 小时 { $m } 分钟
span-m = { $m } 分钟
time-left = 剩余 { $span }
time-overdue = 已超时 { $span }
form-expired = 表单已过期
form-expired-text = 请刷新页面后重试。
server-error = 出错了
server-error-text = 服务器未能完成操作，请重试。
back-to-board = 返回看板
sign-in = 登录
sign-in-title = Fieldwork 调度看板
sign-in-who = 供调度员和主管使用。工程师请使用手机应用。
sign-in-tenant = 服务中心
sign-in-user = 用户
sign-in-password = 密码
sign-in-refused = 服务中心、用户名或密码不正确。

## pages

board-none = 没有符合条件的工单。
urgent = 加急
unassigned = 未派工
engineer = 工程师
reassign = 改派
assign = 派工
due-at = 截止 { $when }
updated-at = 更新于 { $when }
board-title = 未结工单
filter-status = 状态
filter-open-any = 未结（全部）
filter-anyone = 全部
filter-sla = 时限
filter-all = 全部
filter-breached = 已超时
filter-soon = 即将超时
filter = 筛选
col-customer = 客户
col-status = 状态
col-engineer = 工程师
col-sla = 时限
not-found = 未找到
no-such-order = 没有这个工单
conflict-overtaken = { $by } 在设备 { $device } 上把工单改为“{ $to }”时，另一台设备已推进了工单
conflict-signed-report-changed = 客户签字后，已签署的报告被修改
conflict-stock-oversold = { $sku } 同时在多台手机上使用：车载库存显示 { $on_hand }
conflict-qc-after-pass = 质检已通过后又添加了质检记录 { $record }
signature-valid = 签名有效
signature-invalidated = 签名已因后续修改失效
signature-refused = 客户拒绝签字
signature-unsigned = 尚未签字
order-taken = 工单 { $id } · { $when } 由 { $by } 受理 · { $channel }
customer-and-unit = 客户与设备
member = 会员
serial = 序列号 { $serial }
bought = 购于 { $date }
proof = 凭证 { $proof }
fault = 故障：
assignment = 派工
sla-clocks = 时限
exception = 例外：{ $reason }
refused-title = 手机提交被拒
refused-text = 服务器未接受的手机提交。手机会把它保留在隔离区，工程师和技术支持可以查看。
col-when = 时间
col-device = 设备
col-why = 原因
conflicts-title = 需要处理的冲突
timeline = 时间线
col-step = 步骤
col-who = 操作人
col-note = 备注
at-location = 位置 { $where }
diagnosis-and-work = 诊断与维修
in-warranty = 在保
out-of-warranty = 过保
extra-fault = 新发现故障：{ $what }
parts = 配件
doa = 到货即损
quality-fault = 质量问题
fees = 费用
borne-company = 公司承担
borne-customer = 客户承担
customer-pays = 客户应付
consents = 客户同意
consent-accepted = 同意
consent-refused = 拒绝
by-signer = 签字人
consent-signature = 同意签名
qc = 质检
qc-passed = 合格
qc-failed = 不合格
satisfaction = 满意度
follow-up-calls = 回访电话
call-reached = 已接通
call-not-reached = 未接通
complaints = 投诉
service-report = 服务报告
signed-by = { $name } 于 { $when } 签字
customer-signature = 客户签名
refused-to-sign = { $name } 拒绝签字：{ $reason }
not-assigned = 未派工
back = 返回

## reasons

reason-required = 必填
reason-too-long = 不能超过 { $n } 个字符
reason-control-characters = 含有控制字符
reason-at-least-one = 至少为 1
reason-at-most = 不能超过 { $n }
reason-negative = 不能为负数
reason-at-most-minor = 不能超过 { $n }（最小货币单位）
reason-not-a-date = 日期格式应为 YYYY-MM-DD
reason-unsigned = 为空：客户尚未签字
reason-too-many-strokes = 笔画超过 { $n } 笔
reason-too-many-points = 点数超过 { $n } 个
reason-not-finite = 含有无效的坐标点
reason-times-backwards = 笔迹时间倒退
reason-too-many-lines = 超过 { $n } 条
reason-not-an-email = 不是有效的电子邮箱
reason-in-the-future = 不能晚于今天
reason-promised-before-intake = 必须晚于受理时间
reason-score-range = 应在 1 到 5 之间
reason-not-a-time = 应为日期和时间，例如 2026-12-01 09:30
reason-skipped-time = 在服务中心时区中不存在（时钟跳过了这一时间）
reason-language = 只能是 zh-CN 或 en
reason-travel-allowance = 路途补贴分钟数，0 到 1440
reason-whole-number = 必须是整数
reason-checklist-empty = 检查单为空
reason-not-between-intake-and-now = 必须在受理时间与现在之间
reason-pick-resolution = 请从提出的处理方案中选择一个
reason-propose-resolution = 至少提出一个方案
reason-team-required = 重大投诉需要指定处理小组
reason-physical-count = 应为不小于 0 的数量
reason-policy-positive = 策略 { $name } 必须为正数
reason-policy-exception-shorter = 例外维修时限不能短于维修时限
reason-policy-currency = 币种必须是三个字母的 ISO 4217 代码
reason-policy-time-zone = 时区不是有效的 IANA 时区（例如 Asia/Shanghai）
reason-policy-calling-hours = 可致电时段格式应为 09:00-12:00,14:00-20:00
reason-policy-window-inverted = 可致电时段 { $name } 的结束早于开始
reason-policy-windows-overlap = 可致电时段必须按顺序且不重叠

## intake

choose-channel = 请选择渠道
choose-category = 请选择类别
choose-priority = 请选择普通或加急
intake-title = 新建工单
intake-not-saved = 工单未保存：请修改下面标出的字段。
intake-request = 报修
intake-channel = 渠道
intake-category = 类别
intake-priority = 优先级
intake-promised = 承诺解决时间（当地时间）
intake-site = 地点
intake-travel = 路途补贴（分钟，市区以外）
intake-customer = 客户
intake-name = 姓名
intake-phone = 电话
intake-email = 电子邮箱
intake-address = 服务地址
intake-member = 会员
intake-product = 产品
intake-model = 型号
intake-serial = 序列号
intake-purchase-date = 购买日期
intake-proof = 购买凭证（发票号）
intake-fault = 故障
intake-symptoms = 故障现象（按客户描述）
intake-frequency = 出现频率
intake-since = 开始时间
intake-environment = 使用环境
intake-tried = 已尝试的处理
intake-submit = 受理工单
enum-phone = 电话
enum-email = 邮件
enum-online-chat = 在线客服
enum-walk-in = 到店
enum-mail-in = 寄修
enum-product-quality = 产品质量
enum-usage-operation = 使用操作
enum-installation-commissioning = 安装调试
enum-other = 其他
enum-normal = 普通
enum-urgent = 加急
enum-urban = 市区
enum-outside-urban = 市区以外

## desk

follow-ups-title = 回访电话
follow-ups-rule = 每位已服务客户须在 { $days } 天内回访，会员客户必须回访。无论是否接通都要记录。不满意的回答会生成待定投诉。
calling-hours = 可致电客户的时段：{ $hours }（当地时间）。
calling-now = 现在处于可致电时段。
calling-rest = 现在是客户休息时间：下一次可致电时间为 { $when }。
no-calls-due = 没有待回访的电话。
col-call-by = 回访截止
col-call-now = 现在可致电？
col-on-site = 现场评价
col-record-call = 记录回访
call-now-yes = 可以
call-wait-until = 请等到 { $when }
reached = 已接通
answer = 回答
aspect = 不满意的方面（一般或不满意时）
comment = 意见或建议
record-call = 记录回访
choose-rating = 请选择满意、一般或不满意
enum-satisfied = 满意
enum-neutral = 一般
enum-unsatisfied = 不满意
milestone-shipped = 已寄往维修中心
milestone-receipt-confirmed = 已确认收货和故障
milestone-customer-updated = 已告知客户进度
milestone-second-contact = 二次联系
milestone-returned = 设备已返回
milestone-ship-to-repair-center = 寄往维修中心
milestone-confirm-receipt-and-fault = 确认收货和故障
milestone-progress-update-to-customer = 向客户通报进度
milestone-unit-back-else-escalate-to-supervisor = 设备返回（否则上报主管）
mail-in-title = 寄修
mail-in-rule = { $ship } 小时内寄出，{ $confirm } 天内确认收货，{ $update } 天内告知客户进度，第 { $second } 天二次联系，第 { $escalate } 天上报。
mail-in-none = 没有进行中的寄修。
col-milestones = 节点
col-record = 记录
received-at = 受理于 { $when }
done-at = 完成于 { $when }
late = 逾期
milestone = 节点
done-now = 现在完成
choose-milestone = 请选择节点

## errors

error-invalid = { $field } 无效：{ $reason }
error-not-found = 找不到 { $kind } { $id }
error-unknown-sku = 未知配件 { $sku }：不在配件目录中
error-insufficient-stock = 车载库存中 { $sku } 不足：现有 { $on_hand }，需要 { $wanted }
error-illegal-transition = 不能从“{ $from }”变为“{ $to }”
error-cannot-cancel = 不能取消：客户已签字同意付费服务，且配件已使用或已订购
error-consent-required = 需要先取得客户对{ $kind }的同意：{ $why }
error-wrong-status = 工单处于“{ $status }”时不允许：{ $why }
error-qc-locked = 质检记录已锁定：检验已通过
error-precondition = 条件不满足：{ $why }
error-role-required = 只有{ $role }可以执行此操作（{ $what }）
error-malformed-document = 文档 { $doc_id } 的数据格式错误：{ $reason }
error-storage = 存储错误：{ $reason }
role-supervisor = 主管
role-dispatcher = 调度员
status-received = 已受理
status-dispatched = 已派工
status-accepted = 已接单
status-en-route = 在途
status-on-site = 已到达
status-in-progress = 维修中
status-awaiting-parts = 待配件
status-repaired = 已修复
status-qc-passed = 质检合格
status-qc-failed = 质检不合格
status-signed-off = 已签收
status-followed-up = 已回访
status-closed = 已关闭
status-cancelled = 已取消
status-resolved-remotely = 远程解决
clock-dispatch = 派工时限
clock-arrival = 到达时限
clock-repair = 维修时限
clock-paperwork = 交单时限
clock-follow-up = 回访时限

## errors

error-no-such-engineer = 本服务中心没有这位工程师

## complaints

enum-repair-quality = 维修质量
enum-service-attitude = 服务态度
enum-timeliness = 及时性
enum-fees = 收费
enum-candidate = 待定
enum-registered = 已登记
enum-investigating = 调查中
enum-resolution-proposed = 已提出方案
enum-customer-accepted = 客户已接受
enum-closed = 已结案
complaint-category = 类别
complaints-title = 投诉
complaints-summary = 未结 { $open } 件 · 已结 { $closed } 件。重大投诉排在前面。
major = 重大
registered-by = { $when } 由 { $by } 登记 · { $category }
responsible = 责任方：{ $who }
team = 处理小组：{ $team }
findings = 调查结果：{ $what }
proposed = 提出的方案：
chosen = 已选定
accepted-by = 接受人：{ $who }
step-register = 登记投诉
it-stands = 投诉成立
it-does-not-stand = 投诉不成立
explanation = 向客户的解释（不成立时）
step-judge = 记录判定
responsible-party = 责任方
responsible-placeholder = 工程师、服务人员或主管
handling-team = 处理小组（重大投诉；用逗号分隔）
step-responsible = 确定责任方
findings-label = 调查结果
step-investigate = 记录调查结果
resolutions-label = 处理方案，每行一个
step-propose = 提出方案
step-pick = 选定此方案
waiting-for-supervisor = 等待主管选定处理方案。
accepting-customer = 签字接受的客户
step-accept = 客户已接受
feedback-label = 客户反馈
step-feedback = 记录反馈
step-close = 结案并分类
unknown-step = 未知步骤
complaint-not-registered = 投诉未登记
back-to-order = 返回工单
complaint-what = 客户投诉的内容
complaint-major = 重大（需要处理小组）
register-complaint = 登记投诉

## stats

stats-title = 统计
stats-supervisor-only = 统计仅供服务中心主管查看。
stats-per-month-title = 按月统计
stats-per-week-title = 按周统计
stats-per-month = 按月
stats-per-week = 按周
stats-csv = 下载 CSV
stats-none = 还没有工单。
chart-requests = 报修量
chart-dispatch-within = { $span }内派工
chart-repair-within = { $span }内修复
chart-arrival = 准时到达
chart-first-time-fix = 一次修复
chart-satisfied = 现场满意
span-hours = { $n } 小时
span-minutes = { $n } 分钟
col-figure = 指标
csv-header = 期间,指标,名称,数值
metric-requests = 报修量
metric-requests-channel = 按渠道的报修量：{ $value }
metric-requests-category = 按类别的报修量：{ $value }
metric-sla-compliance = 时限达成率：{ $clock }（%）
metric-repair-time-avg-h = 平均维修时长（小时）
metric-repair-time-p90-h = 维修时长 90 分位（小时）
metric-first-time-fix-pct = 一次修复率（%）
metric-rework-pct = 返修率（%）
metric-repair-success-pct = 维修成功率（%）
metric-satisfaction-on-site-pct = 现场满意率（%）
metric-satisfaction-follow-up-pct = 回访满意率（%）
metric-complaints-category = 投诉：{ $value }
metric-parts-used = 配件用量：{ $value }
metric-parts-doa-pct = 到货即损率（%）：{ $value }
metric-arrival-on-time-pct = 准时到达率（%）：{ $value }

## settings

settings-title = 服务中心设置
settings-not-saved = 设置未保存：
settings-supervisor-only = 只有主管可以修改设置。
settings-place = 地区与语言
settings-time-zone = 时区（IANA，例如 Asia/Shanghai）
settings-language = 默认语言
settings-currency = 币种（ISO 4217）
settings-calling-hours = 可致电时段（当地时间，例如 09:00-12:00,14:00-20:00）
settings-policy = 服务策略
settings-save = 保存为新版本
settings-versions = 版本
settings-versions-rule = 工单按受理时生效的版本执行。
col-version = 版本
col-in-force-from = 生效时间
col-by = 修改人
col-time-zone = 时区
col-language = 语言
limit-dispatch-limit-min = 受理到派工（分钟）
limit-arrival-limit-min = 派工到到达，市区（分钟）
limit-repair-limit-min = 派工到修复（分钟）
limit-repair-exception-limit-min = 有例外时派工到修复（分钟）
limit-paperwork-limit-min = 修复到交回签字报告（分钟，或当天）
limit-follow-up-limit-days = 服务后回访（天）
limit-about-to-breach-min = 超时前提醒（分钟）
limit-software-rework-hours = 同一软件故障再次出现视为返修（小时内）
limit-hardware-rework-days = 同一硬件故障再次出现视为返修（天内）
limit-warranty-days = 自购买日起保修（天）
limit-rma-ship-hours = 寄修：寄往维修中心（小时，或当天）
limit-rma-confirm-days = 寄修：确认收货和故障（天）
limit-rma-update-days = 寄修：告知客户进度（天）
limit-rma-second-contact-days = 寄修：二次联系（天）
limit-rma-escalate-days = 寄修：未返回时上报（天）
field-must-be-whole = { $field }：必须是整数

## stored

stored-no-purchase-date = 无购买日期：付费维修
stored-proof-not-checked = 未核验购买凭证：付费维修
stored-misuse = 人为损坏：付费维修
stored-warranty-ended = 保修已于 { $x } 到期：付费维修
stored-in-warranty-until = 保修至 { $x }：免费维修
stored-waiting-for = 等待配件 { $x }
stored-refused-to-sign = 客户拒绝签字

## enums

enum-running = 计时中
enum-about-to-breach = 即将超时
enum-breached = 已超时
enum-met = 达成
enum-met-late = 超时完成
enum-stopped = 已停止
enum-applied = 已使用
enum-ordered = 已订购
enum-software = 软件
enum-hardware = 硬件
enum-labour = 人工费
enum-logistics = 物流费
enum-paid-service = 付费服务
enum-extra-parts = 额外配件
enum-extra-work = 额外工作
enum-fee-list = 费用清单

## stored2

stored-unsatisfied-at-completion = 完工时不满意

## reasons2

reason-not-a-change-hash = 不是有效的变更哈希
reason-not-a-document-id = 不是有效的文档编号
reason-not-an-id = 不能用作文档编号
reason-unreached-has-no-rating = 未接通的电话不能记录评价
reason-aspect-required = 请询问客户对哪方面一般或不满意
reason-location-range = 经纬度或精度超出范围
reason-phone-or-email = 电话或电子邮箱至少填写一项
reason-travel-minutes = 应在 0 到 1440 分钟之间
