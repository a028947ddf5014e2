<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1">
<context>
    <name>GridOps</name>
    <message>
        <location filename="../plugin.py" line="89"/>
        <source>&amp;GridOps</source>
        <translation>GridOps 网格运维(&amp;G)</translation>
    </message>
    <message>
        <location filename="../plugin.py" line="382"/>
        <source>GridOps</source>
        <translation>GridOps 网格运维</translation>
    </message>
    <message>
        <location filename="../plugin.py" line="265"/>
        <source>Not connected</source>
        <translation>尚未连接</translation>
    </message>
    <message>
        <location filename="../core/review.py" line="147"/>
        <source>{days} d {hours} h {minutes} min</source>
        <translation>{days} 天 {hours} 小时 {minutes} 分</translation>
    </message>
    <message>
        <location filename="../core/review.py" line="151"/>
        <source>{hours} h {minutes} min</source>
        <translation>{hours} 小时 {minutes} 分</translation>
    </message>
    <message>
        <location filename="../core/review.py" line="154"/>
        <source>{minutes} min</source>
        <translation>{minutes} 分</translation>
    </message>
    <message>
        <location filename="../core/review.py" line="160"/>
        <source>No position with the submission</source>
        <translation>提交时未带位置</translation>
    </message>
    <message>
        <location filename="../core/review.py" line="163"/>
        <source>{distance} m from the task point</source>
        <translation>距任务点 {distance} 米</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="47"/>
        <source>Litter</source>
        <translation>垃圾堆积</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="48"/>
        <source>Bike parking</source>
        <translation>单车乱停放</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="49"/>
        <source>Street-side drying</source>
        <translation>沿街晾晒</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="50"/>
        <source>Waterlogging</source>
        <translation>路面积水</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="51"/>
        <source>Streetlight out</source>
        <translation>路灯不亮</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="52"/>
        <source>Damaged manhole cover</source>
        <translation>井盖破损</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="53"/>
        <source>Other</source>
        <translation>其他</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="83"/>
        <source>Reported</source>
        <translation>待受理</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="84"/>
        <source>Open</source>
        <translation>待派遣</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="85"/>
        <source>Assigned</source>
        <translation>已派遣</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="86"/>
        <source>Declined</source>
        <translation>被退回</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="87"/>
        <source>In progress</source>
        <translation>处置中</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="88"/>
        <source>Paused</source>
        <translation>暂停</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="89"/>
        <source>Submitted</source>
        <translation>待核查</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="90"/>
        <source>Rework</source>
        <translation>返工</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="91"/>
        <source>Closed</source>
        <translation>已结案</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="92"/>
        <source>Canceled</source>
        <translation>已取消</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="93"/>
        <source>Invalid</source>
        <translation>无效</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="100"/>
        <source>Urgent</source>
        <translation>紧急</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="101"/>
        <source>High</source>
        <translation>高</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="102"/>
        <source>Normal</source>
        <translation>普通</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="103"/>
        <source>Low</source>
        <translation>低</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="110"/>
        <source>Camera</source>
        <translation>视频监控</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="111"/>
        <source>Citizen</source>
        <translation>市民上报</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="112"/>
        <source>Hotline call</source>
        <translation>热线来电</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="113"/>
        <source>Patrol</source>
        <translation>巡查</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="114"/>
        <source>Office</source>
        <translation>中心</translation>
    </message>
    <message>
        <location filename="../gui/task_dialogs.py" line="46"/>
        <source>Title</source>
        <translation>标题</translation>
    </message>
    <message>
        <location filename="../gui/task_dialogs.py" line="45"/>
        <source>Kind</source>
        <translation>类型</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="122"/>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <location filename="../gui/tasks_dock.py" line="153"/>
        <source>Priority</source>
        <translation>优先级</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="124"/>
        <source>Grid</source>
        <translation>网格</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="125"/>
        <source>Assignee</source>
        <translation>处置人</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="126"/>
        <source>Due</source>
        <translation>期限</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="127"/>
        <source>Overdue</source>
        <translation>超期</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="128"/>
        <source>Pending</source>
        <translation>待同步</translation>
    </message>
    <message>
        <location filename="../gui/assign_dialog.py" line="33"/>
        <source>Assign tasks</source>
        <translation>派遣任务</translation>
    </message>
    <message>
        <location filename="../gui/assign_dialog.py" line="35"/>
        <source>Assign</source>
        <translation>派遣</translation>
    </message>
    <message>
        <location filename="../gui/connect_dialog.py" line="83"/>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <location filename="../gui/assign_dialog.py" line="50"/>
        <source>Assign “{0}” to:</source>
        <translation>将“{0}”派遣给：</translation>
    </message>
    <message>
        <location filename="../gui/assign_dialog.py" line="51"/>
        <source>Assign {0} tasks to:</source>
        <translation>将 {0} 个任务派遣给：</translation>
    </message>
    <message>
        <location filename="../gui/assign_dialog.py" line="56"/>
        <source>Worker</source>
        <translation>网格员</translation>
    </message>
    <message>
        <location filename="../gui/assign_dialog.py" line="56"/>
        <source>Grids</source>
        <translation>网格</translation>
    </message>
    <message>
        <location filename="../gui/assign_dialog.py" line="56"/>
        <source>Active tasks</source>
        <translation>在办任务</translation>
    </message>
    <message>
        <location filename="../gui/assign_dialog.py" line="64"/>
        <source>(suggested)</source>
        <translation>（推荐）</translation>
    </message>
    <message>
        <location filename="../gui/review_dock.py" line="67"/>
        <source>Loading…</source>
        <translation>加载中…</translation>
    </message>
    <message>
        <location filename="../gui/review_dock.py" line="75"/>
        <source>Not an image</source>
        <translation>不是图片</translation>
    </message>
    <message>
        <location filename="../gui/review_dock.py" line="82"/>
        <source>No photo</source>
        <translation>无照片</translation>
    </message>
    <message>
        <location filename="../gui/review_dock.py" line="154"/>
        <source>GridOps review</source>
        <translation>GridOps 审核</translation>
    </message>
    <message>
        <location filename="../gui/review_dock.py" line="155"/>
        <source>To review</source>
        <translation>待审核</translation>
    </message>
    <message>
        <location filename="../gui/review_dock.py" line="156"/>
        <source>Before</source>
        <translation>处置前</translation>
    </message>
    <message>
        <location filename="../gui/review_dock.py" line="157"/>
        <source>After</source>
        <translation>处置后</translation>
    </message>
    <message>
        <location filename="../gui/review_dock.py" line="158"/>
        <source>Worker&apos;s note:</source>
        <translation>网格员备注：</translation>
    </message>
    <message>
        <location filename="../gui/review_dock.py" line="159"/>
        <source>Position:</source>
        <translation>位置：</translation>
    </message>
    <message>
        <location filename="../gui/review_dock.py" line="160"/>
        <source>Time taken:</source>
        <translation>用时：</translation>
    </message>
    <message>
        <location filename="../gui/review_dock.py" line="161"/>
        <source>Comment (optional to confirm, required to send back)</source>
        <translation>审核意见（确认时可不填，退回时必填）</translation>
    </message>
    <message>
        <location filename="../gui/review_dock.py" line="166"/>
        <source>Confirm</source>
        <translation>确认</translation>
    </message>
    <message>
        <location filename="../gui/review_dock.py" line="167"/>
        <source>Send back</source>
        <translation>退回</translation>
    </message>
    <message>
        <location filename="../gui/review_dock.py" line="171"/>
        <source>Photos sent</source>
        <translation>所附照片</translation>
    </message>
    <message>
        <location filename="../gui/review_dock.py" line="190"/>
        <source>this device</source>
        <translation>本机</translation>
    </message>
    <message>
        <location filename="../gui/review_dock.py" line="214"/>
        <source>No photos</source>
        <translation>无照片</translation>
    </message>
    <message>
        <location filename="../gui/review_dock.py" line="224"/>
        <source>GridOps photos</source>
        <translation>GridOps 照片</translation>
    </message>
    <message>
        <location filename="../gui/review_dock.py" line="286"/>
        <source>Submitted tasks: {count}</source>
        <translation>待审核任务：{count} 件</translation>
    </message>
    <message>
        <location filename="../gui/review_dock.py" line="301"/>
        <source>Nothing to review</source>
        <translation>暂无待审核任务</translation>
    </message>
    <message>
        <location filename="../gui/review_dock.py" line="322"/>
        <source>Write a comment to send the task back.</source>
        <translation>退回任务需填写审核意见。</translation>
    </message>
    <message>
        <location filename="../gui/review_dock.py" line="334"/>
        <source>Photo {taken_at}</source>
        <translation>照片 {taken_at}</translation>
    </message>
    <message>
        <location filename="../gui/review_dock.py" line="354"/>
        <source>Refused: {message}</source>
        <translation>未执行：{message}</translation>
    </message>
    <message>
        <location filename="../gui/review_dock.py" line="367"/>
        <source>Confirmed; the hub hears of it at the next sync.</source>
        <translation>已确认，下次同步时提交到平台。</translation>
    </message>
    <message>
        <location filename="../gui/review_dock.py" line="383"/>
        <source>Sent back for rework; the hub hears of it at the next sync.</source>
        <translation>已退回返工，下次同步时提交到平台。</translation>
    </message>
    <message>
        <location filename="../gui/review_dock.py" line="397"/>
        <source>Conflicts ({count})</source>
        <translation>冲突（{count}）</translation>
    </message>
    <message>
        <location filename="../gui/review_dock.py" line="421"/>
        <source>No conflicts</source>
        <translation>没有冲突</translation>
    </message>
    <message>
        <location filename="../gui/review_dock.py" line="424"/>
        <source>Task: {title}
Sent by {who} at {at}: {type}, refused ({code})
{note}</source>
        <translation>任务：{title}
{who} 于 {at} 提交 {type}，被拒收（{code}）
{note}</translation>
    </message>
    <message>
        <location filename="../gui/task_dialogs.py" line="43"/>
        <source>New task</source>
        <translation>新建任务</translation>
    </message>
    <message>
        <location filename="../gui/task_dialogs.py" line="49"/>
        <source>Source</source>
        <translation>来源</translation>
    </message>
    <message>
        <location filename="../gui/tasks_dock.py" line="154"/>
        <source>Due time</source>
        <translation>处置期限</translation>
    </message>
    <message>
        <location filename="../gui/tasks_dock.py" line="76"/>
        <source>New priority:</source>
        <translation>新的优先级：</translation>
    </message>
    <message>
        <location filename="../gui/tasks_dock.py" line="89"/>
        <source>Cancel tasks</source>
        <translation>取消任务</translation>
    </message>
    <message>
        <location filename="../gui/tasks_dock.py" line="89"/>
        <source>Reason for cancelling:</source>
        <translation>取消原因：</translation>
    </message>
    <message>
        <location filename="../gui/tasks_dock.py" line="115"/>
        <source>GridOps tasks</source>
        <translation>GridOps 任务</translation>
    </message>
    <message>
        <location filename="../gui/tasks_dock.py" line="141"/>
        <source>All statuses</source>
        <translation>全部状态</translation>
    </message>
    <message>
        <location filename="../gui/tasks_dock.py" line="142"/>
        <source>Active</source>
        <translation>在办</translation>
    </message>
    <message>
        <location filename="../gui/tasks_dock.py" line="145"/>
        <source>All kinds</source>
        <translation>全部类型</translation>
    </message>
    <message>
        <location filename="../gui/tasks_dock.py" line="148"/>
        <source>Search title, description or id</source>
        <translation>搜索标题、描述或编号</translation>
    </message>
    <message>
        <location filename="../gui/tasks_dock.py" line="151"/>
        <source>Overdue only</source>
        <translation>仅超期</translation>
    </message>
    <message>
        <location filename="../gui/tasks_dock.py" line="152"/>
        <source>Assign…</source>
        <translation>派遣…</translation>
    </message>
    <message>
        <location filename="../gui/tasks_dock.py" line="155"/>
        <source>Cancel task</source>
        <translation>取消任务</translation>
    </message>
    <message>
        <location filename="../gui/tasks_dock.py" line="156"/>
        <source>Create from map</source>
        <translation>地图上新建</translation>
    </message>
    <message>
        <location filename="../gui/tasks_dock.py" line="157"/>
        <source>Click on the map where the new task is</source>
        <translation>在地图上点击新任务的位置</translation>
    </message>
    <message>
        <location filename="../gui/tasks_dock.py" line="166"/>
        <source>Zoom</source>
        <translation>缩放至</translation>
    </message>
    <message>
        <location filename="../gui/tasks_dock.py" line="224"/>
        <source>All grids</source>
        <translation>全部网格</translation>
    </message>
    <message>
        <location filename="../gui/tasks_dock.py" line="227"/>
        <source>Anyone</source>
        <translation>全部处置人</translation>
    </message>
    <message>
        <location filename="../gui/tasks_dock.py" line="249"/>
        <source>{0} of {1} tasks</source>
        <translation>{0} / {1} 个任务</translation>
    </message>
    <message>
        <location filename="../gui/tasks_dock.py" line="346"/>
        <source>Refused</source>
        <translation>被拒绝</translation>
    </message>
    <message>
        <location filename="../gui/tasks_dock.py" line="358"/>
        <source>Select one or more tasks first</source>
        <translation>请先选择一个或多个任务</translation>
    </message>
    <message>
        <location filename="../gui/connect_dialog.py" line="33"/>
        <source>The hub refused the login ({status}).</source>
        <translation>中心拒绝登录（{status}）。</translation>
    </message>
    <message>
        <location filename="../plugin.py" line="101"/>
        <source>Connect to the GridOps hub</source>
        <translation>连接 GridOps 中心</translation>
    </message>
    <message>
        <location filename="../gui/connect_dialog.py" line="64"/>
        <source>Hub address</source>
        <translation>中心地址</translation>
    </message>
    <message>
        <location filename="../gui/connect_dialog.py" line="65"/>
        <source>Username</source>
        <translation>用户名</translation>
    </message>
    <message>
        <location filename="../gui/connect_dialog.py" line="66"/>
        <source>Password</source>
        <translation>密码</translation>
    </message>
    <message>
        <location filename="../gui/connect_dialog.py" line="67"/>
        <source>Remember the password (QGIS authentication database)</source>
        <translation>记住密码（保存在 QGIS 认证数据库）</translation>
    </message>
    <message>
        <location filename="../gui/connect_dialog.py" line="72"/>
        <source>Sync every</source>
        <translation>自动同步间隔</translation>
    </message>
    <message>
        <location filename="../gui/connect_dialog.py" line="73"/>
        <source> min</source>
        <translation> 分钟</translation>
    </message>
    <message>
        <location filename="../gui/connect_dialog.py" line="74"/>
        <source>Off</source>
        <translation>关闭</translation>
    </message>
    <message>
        <location filename="../gui/connect_dialog.py" line="75"/>
        <source>Minutes between automatic syncs; 0 turns them off.</source>
        <translation>两次自动同步之间的分钟数；0 表示关闭。</translation>
    </message>
    <message>
        <location filename="../gui/connect_dialog.py" line="80"/>
        <source>Log in</source>
        <translation>登录</translation>
    </message>
    <message>
        <location filename="../gui/connect_dialog.py" line="101"/>
        <source>Fill in the hub address, the username and the password.</source>
        <translation>请填写中心地址、用户名和密码。</translation>
    </message>
    <message>
        <location filename="../gui/status.py" line="21"/>
        <source>GridOps: not connected</source>
        <translation>GridOps：未连接</translation>
    </message>
    <message>
        <location filename="../gui/status.py" line="22"/>
        <source>never</source>
        <translation>从未</translation>
    </message>
    <message>
        <location filename="../gui/status.py" line="27"/>
        <source>Last sync {time} · waiting {pending} · conflicts {conflicts}</source>
        <translation>上次同步 {time} · 待发送 {pending} · 冲突 {conflicts}</translation>
    </message>
    <message>
        <location filename="../gui/status.py" line="44"/>
        <source>GridOps: last sync, changes waiting to be sent, unseen conflicts</source>
        <translation>GridOps：上次同步时间、待发送的修改、未查看的冲突</translation>
    </message>
    <message>
        <location filename="../gui/status.py" line="59"/>
        <source>GridOps: status unavailable ({error})</source>
        <translation>GridOps：状态不可用（{error}）</translation>
    </message>
    <message>
        <location filename="../plugin.py" line="101"/>
        <source>Connect…</source>
        <translation>连接…</translation>
    </message>
    <message>
        <location filename="../plugin.py" line="108"/>
        <source>Sync now</source>
        <translation>立即同步</translation>
    </message>
    <message>
        <location filename="../plugin.py" line="108"/>
        <source>Sync the replica with the hub now</source>
        <translation>立即与中心同步本地副本</translation>
    </message>
    <message>
        <location filename="../plugin.py" line="408"/>
        <source>Tasks</source>
        <translation>任务</translation>
    </message>
    <message>
        <location filename="../plugin.py" line="115"/>
        <source>Show or hide the GridOps tasks panel</source>
        <translation>显示或隐藏 GridOps 任务面板</translation>
    </message>
    <message>
        <location filename="../plugin.py" line="409"/>
        <source>Review</source>
        <translation>审核</translation>
    </message>
    <message>
        <location filename="../plugin.py" line="123"/>
        <source>Show or hide the GridOps review panel</source>
        <translation>显示或隐藏 GridOps 审核面板</translation>
    </message>
    <message>
        <location filename="../plugin.py" line="134"/>
        <source>The sync client cannot be loaded</source>
        <translation>无法加载同步客户端</translation>
    </message>
    <message>
        <location filename="../plugin.py" line="150"/>
        <source>The last GridOps replica cannot be opened</source>
        <translation>无法打开上次的 GridOps 本地副本</translation>
    </message>
    <message>
        <location filename="../plugin.py" line="277"/>
        <source>GridOps is not complete</source>
        <translation>GridOps 插件不完整</translation>
    </message>
    <message>
        <location filename="../plugin.py" line="265"/>
        <source>Connect to the hub first (GridOps → Connect…).</source>
        <translation>请先连接中心（GridOps → 连接…）。</translation>
    </message>
    <message>
        <location filename="../plugin.py" line="304"/>
        <source>The GridOps layers cannot be added</source>
        <translation>无法添加 GridOps 图层</translation>
    </message>
    <message>
        <location filename="../plugin.py" line="309"/>
        <source>Connected as {username}; fetching the data now.</source>
        <translation>已以 {username} 身份连接，正在获取数据。</translation>
    </message>
    <message>
        <location filename="../plugin.py" line="335"/>
        <source>GridOps sync</source>
        <translation>GridOps 同步</translation>
    </message>
    <message>
        <location filename="../plugin.py" line="357"/>
        <source>A GridOps panel could not be refreshed</source>
        <translation>GridOps 面板刷新失败</translation>
    </message>
    <message>
        <location filename="../plugin.py" line="368"/>
        <source>Sync failed</source>
        <translation>同步失败</translation>
    </message>
    <message>
        <location filename="../plugin.py" line="372"/>
        <source>Synced: {sent} sent, {received} received.</source>
        <translation>已同步：发送 {sent} 条，接收 {received} 条。</translation>
    </message>
    <message>
        <location filename="../plugin.py" line="382"/>
        <source>{count} change(s) were refused by the hub: see the Review panel.</source>
        <translation>中心拒绝了 {count} 项修改：请查看审核面板。</translation>
    </message>
    <message>
        <location filename="../plugin.py" line="420"/>
        <source>The {panel} panel is not available in this build</source>
        <translation>此版本中没有“{panel}”面板</translation>
    </message>
    <message>
        <location filename="../plugin.py" line="428"/>
        <source>The {panel} panel could not be opened</source>
        <translation>无法打开“{panel}”面板</translation>
    </message>
    <message>
        <location filename="../gui/connect_dialog.py" line="29"/>
        <source>Cannot reach the hub at {url}. Check the address and the network.</source>
        <translation>无法连接中心 {url}。请检查地址和网络。</translation>
    </message>
    <message>
        <location filename="../gui/review_dock.py" line="168"/>
        <source>What the hub refused, as it was sent:</source>
        <translation>平台拒收的操作（保留原样）：</translation>
    </message>
    <message>
        <location filename="../core/review.py" line="166"/>
        <source>{distance} m from the task point (GNSS ±{accuracy} m)</source>
        <translation>距任务点 {distance} 米（定位精度 ±{accuracy} 米）</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="60"/>
        <source>Streetlight</source>
        <translation>路灯</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="61"/>
        <source>Hydrant</source>
        <translation>消防栓</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="62"/>
        <source>Manhole</source>
        <translation>井盖</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="63"/>
        <source>Litter bin</source>
        <translation>废物箱</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="65"/>
        <source>Electrical box</source>
        <translation>配电箱</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="66"/>
        <source>Bus stop</source>
        <translation>公交站</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="67"/>
        <source>Bike rack</source>
        <translation>非机动车停放点</translation>
    </message>
    <message>
        <location filename="../core/twin_selection.py" line="64"/>
        <source> and {0} more</source>
        <translation> 等 {0} 处</translation>
    </message>
    <message>
        <location filename="../core/twin_selection.py" line="83"/>
        <source>Component: {0}</source>
        <translation>部件：{0}</translation>
    </message>
    <message>
        <location filename="../gui/task_dialogs.py" line="44"/>
        <source>Place</source>
        <translation>位置</translation>
    </message>
    <message>
        <location filename="../gui/task_dialogs.py" line="47"/>
        <source>Description</source>
        <translation>描述</translation>
    </message>
    <message>
        <location filename="../gui/tasks_dock.py" line="160"/>
        <source>From component</source>
        <translation>按部件新建</translation>
    </message>
    <message>
        <location filename="../gui/tasks_dock.py" line="161"/>
        <source>Create a task at each twin feature selected on the map</source>
        <translation>在地图上选中的每个部件处新建任务</translation>
    </message>
    <message>
        <location filename="../gui/tasks_dock.py" line="432"/>
        <source>Select a component, pipeline or area on the map first</source>
        <translation>请先在地图上选择部件、管线或区域</translation>
    </message>
</context>
</TS>
