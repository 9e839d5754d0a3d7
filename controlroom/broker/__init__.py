"""RabbitMQ: connections (`connection`), every name and declaration (`topology`), sending with
confirms (`publishing`), and the one viewer feed the control room and the bridge share (`feed`)."""
