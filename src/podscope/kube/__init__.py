"""podscope.kube"""
