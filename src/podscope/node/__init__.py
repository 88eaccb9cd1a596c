"""podscope.node"""
