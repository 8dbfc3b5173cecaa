# Fieldwork 的简体中文消息。这里的每个 id 也在 en.ftl 中。

## 计数

orders-count = { $count } 个工单
