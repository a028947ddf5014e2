<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1">
<context>
    <name>GridOps</name>
    <message>
        <location filename="../plugin.py" line="71"/>
        <source>&amp;GridOps</source>
        <translation>GridOps 网格运维(&amp;G)</translation>
    </message>
    <message>
        <location filename="../plugin.py" line="75"/>
        <source>GridOps</source>
        <translation>GridOps 网格运维</translation>
    </message>
    <message>
        <location filename="../plugin.py" line="81"/>
        <source>Connect</source>
        <translation>连接</translation>
    </message>
    <message>
        <location filename="../plugin.py" line="81"/>
        <source>Connect to the GridOps hub</source>
        <translation>连接 GridOps 中心</translation>
    </message>
    <message>
        <location filename="../plugin.py" line="87"/>
        <source>Sync</source>
        <translation>同步</translation>
    </message>
    <message>
        <location filename="../plugin.py" line="87"/>
        <source>Sync the replica with the hub now</source>
        <translation>立即将本地副本与中心同步</translation>
    </message>
    <message>
        <location filename="../plugin.py" line="94"/>
        <source>The sync client cannot be loaded</source>
        <translation>无法加载同步客户端</translation>
    </message>
    <message>
        <location filename="../plugin.py" line="138"/>
        <source>GridOps is not complete</source>
        <translation>GridOps 插件不完整</translation>
    </message>
    <message>
        <location filename="../plugin.py" line="148"/>
        <source>Not connected</source>
        <translation>尚未连接</translation>
    </message>
    <message>
        <location filename="../plugin.py" line="148"/>
        <source>Set the hub address and account, then log in to the hub first.</source>
        <translation>请先设置中心地址和账号，并登录中心。</translation>
    </message>
    <message>
        <location filename="../plugin.py" line="178"/>
        <source>Sync failed</source>
        <translation>同步失败</translation>
    </message>
    <message>
        <location filename="../plugin.py" line="182"/>
        <source>GridOps sync</source>
        <translation>GridOps 同步</translation>
    </message>
</context>
</TS>
