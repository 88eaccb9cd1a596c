"""podscope.doctor"""
