module httptap.test/gotls

go 1.17
