# Fieldwork's English messages. Every id here is also in zh-CN.ftl
# (a unit test checks both files hold the same ids).

## Counts

orders-count = { $count ->
    [one] 1 order
   *[other] { $count } orders
}
